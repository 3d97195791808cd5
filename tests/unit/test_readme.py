from pathlib import Path

from taskdesk.settings import configuration_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_table_is_current():
    assert configuration_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table is stale: paste `python -m taskdesk.settings` into it"
    )
