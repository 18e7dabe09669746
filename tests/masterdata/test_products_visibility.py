def test_discontinued_products_are_only_for_catalogue_managers(login):
    # P-OLD01 is the demo's discontinued product
    for who in ("sup.north", "rep.beijing", "dist.bj"):
        client = login(who)
        for url in ("/products", "/products?active=0", "/products?active=0&format=csv"):
            body = client.get(url).get_data(as_text=True)
            assert "P-OLD01" not in body, (who, url)
            assert "P-AJ450" in body, (who, url)
    for who in ("admin", "finance"):
        body = login(who).get("/products?active=0").get_data(as_text=True)
        assert "P-OLD01" in body and "P-AJ450" not in body


def test_admin_exports_the_user_list(login):
    import io

    from openpyxl import load_workbook

    from channel.demo import USERS

    admin = login("admin")
    csv_text = admin.get("/admin/users?format=csv&role=distributor",
                         headers={"Accept-Language": "en"}).get_data().decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("Username,Full name,Role")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["dist.bj", "dist.gz", "dist.sh", "dist.tj"]
    assert "北京鑫源商贸有限公司" in csv_text
    book = load_workbook(io.BytesIO(admin.get("/admin/users?format=xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(USERS) and rows[0][0] == "用户名"
    assert login("finance").get("/admin/users?format=csv").status_code == 403
