"""A small HTTP client for the operations tests: a cookie jar, forms, JSON and multipart, and
the source address of its connections (so that one test can come from 127.0.0.7 and another
from 127.0.0.8, and the sign-in limits of one do not block the other)."""
from __future__ import annotations

import http.client
import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlparse


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        v = self.headers.get(name.lower())
        return v[0] if v else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    def __init__(self, base: str, source: str = "127.0.0.1") -> None:
        u = urlparse(base)
        self.host, self.port, self.source = u.hostname, u.port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, form: dict | None = None, json_body=None,
                files: dict | None = None, headers: dict | None = None, timeout: float = 60) -> Response:
        h = dict(headers or {})
        body = None
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in (form or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            for k, (name, data) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                             f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
            parts.append(f"--{boundary}--\r\n".encode())
            body = b"".join(parts)
            h["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            body = urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, source_address=(self.source, 0), timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        out: dict[str, list[str]] = {}
        for k, v in r.getheaders():
            out.setdefault(k.lower(), []).append(v)
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                expired = "expires=thu, 01 jan 1970" in v.lower() or "max-age=0" in v.lower()
                if value and not expired:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return Response(r.status, out, data)

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Response:
        return self.request("POST", path, **kw)

    def sign_in(self, login: str, password: str) -> Response:
        """The sign-in page's form, as a browser sends it; returns the answer to the POST."""
        page = self.get("/login")
        assert page.status == 200, page.status
        token = csrf_of(page.text)
        return self.post("/login", form={"login": login, "password": password, "_csrf": token, "next": ""})

    def csrf(self, path: str = "/account") -> str:
        """The session's CSRF token, from a page's sign-out form."""
        r = self.get(path)
        assert r.status == 200, (path, r.status)
        return csrf_of(r.text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert m, "the page has no CSRF field"
    return m.group(1)
