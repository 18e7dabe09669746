from channel.api.services import user_for_token
from channel.extensions import db


def test_tokens_create_list_revoke(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["tokens", "create", "finance", "--name", "erp"])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert token.startswith("chn_") and len(token) > 40
    with app.app_context():
        row = user_for_token(token)
        assert row.user.username == "finance" and row.token_hash != token  # stored hashed
        prefix = row.prefix
        db.session.remove()
    listed = runner.invoke(args=["tokens", "list"])
    assert prefix in listed.output and "erp" in listed.output and "never used" in listed.output
    assert runner.invoke(args=["tokens", "revoke", prefix]).exit_code == 0
    with app.app_context():
        assert user_for_token(token) is None
    assert runner.invoke(args=["tokens", "create", "nobody"]).exit_code != 0
    assert "REVOKED" in runner.invoke(args=["tokens", "list", "finance"]).output
