"""Credentials for the embedded control plane, generated the way envtest does it.

One self-signed CA signs the API server's serving certificate (for 127.0.0.1 and
localhost) and client certificates; the service-account key pair signs tokens. Files are
created once and reused, so kubeconfigs handed out earlier stay valid across restarts.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Pki:
    """Paths of every credential file under one directory."""

    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.root / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.root / "apiserver.key"

    @property
    def sa_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.root / "sa.pub"

    def client_cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def client_key(self, name: str) -> Path:
        return self.root / f"{name}.key"


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate's file stem, user name (CN) and groups (O)."""

    stem: str
    user: str
    groups: tuple[str, ...] = ()


ADMIN = ClientIdentity("admin", "simpod-admin", ("system:masters",))
CONTROLLER_MANAGER = ClientIdentity("kube-controller-manager", "system:kube-controller-manager")
# How the API server authenticates to kubelets (logs, exec, port-forward), as in kubeadm.
APISERVER_KUBELET_CLIENT = ClientIdentity(
    "apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)
)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _name(common_name: str, groups: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
    )


def ensure_pki(pki: Pki) -> None:
    """Create any missing credential; existing ones are kept."""
    pki.root.mkdir(parents=True, exist_ok=True)
    if not pki.ca_cert.is_file():
        ca_key = _new_key()
        name = _name("simpod-ca")
        cert = (
            _builder(name, name, ca_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(pki.ca_key, ca_key)
        pki.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if not pki.serving_cert.is_file():
        _issue(
            pki,
            pki.serving_cert,
            pki.serving_key,
            _name("kube-apiserver"),
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            sans=[
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
                x509.DNSName("localhost"),
                x509.DNSName("kubernetes.default.svc"),
            ],
        )
    for ident in (ADMIN, CONTROLLER_MANAGER, APISERVER_KUBELET_CLIENT):
        if not pki.client_cert(ident.stem).is_file():
            _issue(
                pki,
                pki.client_cert(ident.stem),
                pki.client_key(ident.stem),
                _name(ident.user, ident.groups),
                usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            )
    if not pki.sa_key.is_file():
        sa = _new_key()
        _write_key(pki.sa_key, sa)
        pki.sa_pub.write_bytes(
            sa.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def issue_client_cert(pki: Pki, ident: ClientIdentity) -> None:
    """A client certificate for another component (e.g. a kubelet), signed by the CA."""
    _issue(
        pki,
        pki.client_cert(ident.stem),
        pki.client_key(ident.stem),
        _name(ident.user, ident.groups),
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
    )


def _issue(
    pki: Pki,
    cert_path: Path,
    key_path: Path,
    subject: x509.Name,
    *,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName] | None = None,
) -> None:
    ca_key = _load_key(pki.ca_key)
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    key = _new_key()
    builder = _builder(subject, ca_cert.subject, key).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
