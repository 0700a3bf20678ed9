from hypothesis import given
from hypothesis import strategies as st

from voronka.clients.actions import do_create_company
from voronka.clients.models import Company
from voronka.core.sqlite import unicode_like


def test_case_insensitive_search_finds_cyrillic_names_on_every_database(org):
    do_create_company(org.manager1, name='ООО "Ромашка"')
    assert Company.objects.filter(name__icontains="ромашка").count() == 1
    assert Company.objects.filter(name__icontains="РОМАШКА").count() == 1
    assert Company.objects.filter(name__icontains="лютик").count() == 0


def test_like_wildcards_and_escapes():
    assert unicode_like("%маш%", "Ромашка")
    assert unicode_like("р_машка", "Ромашка")
    assert not unicode_like("%50\\%%", "скидка 50 рублей", "\\")
    assert unicode_like("%50\\%%", "скидка 50% сразу", "\\")


@given(st.text(max_size=20), st.text(max_size=20))
def test_a_literal_substring_is_always_found(prefix, needle):
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    assert unicode_like(f"%{escaped}%", prefix + needle, "\\")
