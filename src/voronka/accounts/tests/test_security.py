from django.conf import settings


def test_passwords_are_hashed_with_argon2_outside_the_test_suite():
    assert settings.VORONKA_PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
