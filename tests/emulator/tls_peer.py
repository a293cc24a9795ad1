"""A loopback HTTPS peer for the TLS tests (tests/emulated/lambda_binary.rs) and make bench:
it makes a certificate authority and a server certificate for localhost and
127.0.0.1 signed by it, and a second, unrelated authority; serves HTTPS with
that certificate; and writes one JSON line to stdout for every request it
serves and every TLS handshake a client broke off (a client that does not
trust the certificate).

A PUT is answered 200 (CloudFormation's ResponseURL); anything else, the
SDK's calls, 403 AccessDenied in the query protocol's shape, so that the
handler fails at once without retrying.

Usage: python tls_peer.py --dir DIR   (writes DIR/ca.pem and DIR/other-ca.pem,
then prints "PORT <n>")
"""

import argparse
import datetime
import http.server
import ipaddress
import json
import ssl
import sys
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOCK = threading.Lock()


def log(entry):
    with LOCK:
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()


def authority(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def server_certificate(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        log({"event": "request", "method": self.command, "path": self.path,
             "signed": "Authorization" in self.headers, "body": body.decode("utf-8", "replace")})
        if self.command == "PUT":
            status, data, kind = 200, b"", "text/plain"
        else:
            status, kind = 403, "text/xml"
            data = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    b"<Message>the TLS peer serves no AWS</Message></Error><RequestId>tls-peer</RequestId>"
                    b"</ErrorResponse>")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "tls-peer")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context):
        self.context = context
        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        try:
            return self.context.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError) as e:
            log({"event": "handshake_failed", "error": str(e)})
            sock.close()
            raise OSError("handshake failed") from e

    def handle_error(self, request, client_address):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    out = Path(args.dir)
    ca_key, ca_cert = authority("tls-peer test authority")
    _, other_cert = authority("an authority nobody here trusts")
    key, cert = server_certificate(ca_key, ca_cert)
    pem = serialization.Encoding.PEM
    (out / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (out / "other-ca.pem").write_bytes(other_cert.public_bytes(pem))
    (out / "server.pem").write_bytes(cert.public_bytes(pem))
    (out / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(out / "server.pem", out / "server.key")
    server = Server(context)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
