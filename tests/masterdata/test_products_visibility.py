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
