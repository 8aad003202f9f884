"""The API's JSON parser: any body that is not a JSON document is a 400, never a 500."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ApiJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # e.g. "[[[[...": nested deeper than Python's json can follow
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
