def test_the_admin_is_open_to_the_owner_only(org, client):
    org.owner.is_staff = True
    org.owner.save()
    org.head.is_staff = True  # even a staff flag does not open it to other roles
    org.head.save()
    client.force_login(org.owner)
    assert client.get("/admin/").status_code == 200
    client.force_login(org.head)
    assert client.get("/admin/").status_code == 302
