def test_login_and_dashboard(login):
    c = login("sup.north")
    r = c.get("/dashboard")
    assert r.status_code == 200
    assert "北京鑫源商贸有限公司" in r.get_data(as_text=True)
