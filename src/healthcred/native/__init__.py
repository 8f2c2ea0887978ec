"""The native formats (``JKM1:`` health codes, ``JKP1:`` place codes) on the wire: claims and text."""
