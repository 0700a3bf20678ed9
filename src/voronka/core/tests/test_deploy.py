"""The production settings pass Django's deployment checks and refuse to start unsafe."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

VORONKA = str(Path(sys.executable).with_name("voronka"))


def _run(env_extra):
    # The browser tests allow async-unsafe ORM calls in their own process; a deployment never does.
    dropped = ("DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_extra)
    return subprocess.run(
        [VORONKA, "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _run(
        {
            "VORONKA_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "crm.example.com",
            "DATABASE_URL": "postgres://voronka@127.0.0.1:5432/voronka",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _run({"VORONKA_ENV": "production", "ALLOWED_HOSTS": "crm.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
