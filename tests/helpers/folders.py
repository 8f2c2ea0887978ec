"""Trust folders on disk, as ``healthcred trust`` and ``load_trust`` expect them."""

from __future__ import annotations

from pathlib import Path

from healthcred.crypto.algorithms import PrivateKey
from healthcred.crypto.keys import save_public_key


def trust_folder(tmp: Path, root: PrivateKey, trust_list: bytes) -> Path:
    """A trust folder ``tmp/trust`` trusting ``root`` and holding one signed list."""
    folder = tmp / "trust"
    (folder / "anchors").mkdir(parents=True)
    (folder / "lists").mkdir()
    save_public_key(root.public_key(), folder / "anchors" / "root.pub.pem")
    (folder / "lists" / "national.cose").write_bytes(trust_list)
    return folder
