"""The checkpoint station: a page on 127.0.0.1 that scans codes with the device camera, offline.

:mod:`~healthcred.station.checkpoint` holds what a station decides (verify, the signed policy,
paper-code ID checks, relatives bindings, the "already scanned" window, the scan log, trust
status and installs) and knows nothing of HTTP; :mod:`~healthcred.station.app` puts it behind a
Starlette app with the operator token and the browser security headers; ``static/`` holds the
page, its script and style and the vendored QR decoder (jsQR). Starlette and uvicorn are
imported only by ``app`` and ``server``, which only ``healthcred station`` imports.
"""
