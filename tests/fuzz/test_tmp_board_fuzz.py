import requests
import schemathesis
from schemathesis.generation import GenerationMode

from tests.fuzz.test_schemathesis import _run, live_api  # noqa: F401


def test_board_paths(live_api):  # noqa: F811
    document = requests.get(f"{live_api.base_url}/openapi.json", timeout=30).json()
    document["paths"] = {path: item for path, item in document["paths"].items()
                         if path.endswith("/move") or path.endswith("{slug}")}
    print(list(document["paths"]))
    schema = schemathesis.openapi.from_dict(document)
    failures = []
    for mode, known in ((GenerationMode.POSITIVE, True), (GenerationMode.POSITIVE, False),
                        (GenerationMode.NEGATIVE, True)):
        tested, found = _run(schema, live_api, mode, known_paths=known)
        print(mode, tested)
        failures += found
    assert not failures, "\n\n".join(failures)
