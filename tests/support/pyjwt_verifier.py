"""An API that verifies bearer tokens with PyJWT (Debian's python3-jwt), for the probe's tests.

    python3 pyjwt_verifier.py JWKS_URL ISSUER AUDIENCE ALG strict|defaults

Answers 200 to a token PyJWT accepts and 401 otherwise, on 127.0.0.1 (an ephemeral port it
prints as "listening on URL"). "strict" pins the algorithm and requires exp, iat, iss and aud;
"defaults" is how PyJWT's documentation calls decode(): algorithm, audience and issuer only.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

jwks_url, issuer, audience, alg, mode = sys.argv[1:6]
keys = jwt.PyJWKClient(jwks_url)
options = {"require": ["exp", "iat", "iss", "aud"]} if mode == "strict" else {}


class Verifier(BaseHTTPRequestHandler):
    def answer(self):
        status = 401
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer "):]
            try:
                key = keys.get_signing_key_from_jwt(token).key
                jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer, options=options)
                status = 200
            except Exception:
                status = 401
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Verifier)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
