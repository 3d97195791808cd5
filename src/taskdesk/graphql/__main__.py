"""``python -m taskdesk.graphql``: write the schema's SDL to ``schema.graphql`` beside this
file (``--check``: only say whether it is up to date, exit 1 when not)."""

from __future__ import annotations

import sys
from pathlib import Path

from taskdesk.graphql.schema import build_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return build_schema().as_str() + "\n"


def main(argv: list[str]) -> int:
    text = sdl()
    if "--check" in argv:
        current = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
        if current != text:
            print(f"{SDL_PATH} is out of date: run python -m taskdesk.graphql")
            return 1
        return 0
    SDL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
