"""Types of the C decoder (``_fast.c``): each function returns ``None`` where the pure path decides."""

from collections.abc import Callable
from typing import Any

def read_native(
    text: object, prefix: str, /
) -> tuple[bytes, int, bytes, str | None, bytes, bytes, Any, bytes] | None: ...
def b45decode(text: object, prefix: str, /) -> bytes | None: ...
def loads(data: object, /) -> Any: ...
def dss_der(signature: object, /) -> bytes | None: ...
def configure(
    max_text_chars: int,
    max_cose_bytes: int,
    max_depth: int,
    max_items: int,
    inflate: Callable[[bytes], bytes],
    /,
) -> None: ...
