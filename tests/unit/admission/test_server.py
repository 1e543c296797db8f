"""The webhook configurations the operator registers, and its self-signed certificate."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

from cryptography import x509

from simpod.admission.server import (
    MUTATE_ID,
    VALIDATE_ID,
    WEBHOOKS,
    RegisteringWebhookServer,
    configuration,
)


def test_only_simpod_creation_is_intercepted_with_short_timeouts() -> None:
    url = {"url": "https://127.0.0.1:1234", "caBundle": "Q0E="}
    mutating, validating = (configuration(w, url) for w in WEBHOOKS)
    assert mutating["kind"] == "MutatingWebhookConfiguration"
    assert validating["kind"] == "ValidatingWebhookConfiguration"
    for body, handler_id, policy, side_effects in (
        (mutating, MUTATE_ID, "Ignore", "None"),
        (validating, VALIDATE_ID, "Fail", "NoneOnDryRun"),
    ):
        (webhook,) = body["webhooks"]
        assert webhook["clientConfig"] == {
            "url": f"https://127.0.0.1:1234/{handler_id}",
            "caBundle": "Q0E=",
        }
        assert webhook["failurePolicy"] == policy
        assert webhook["timeoutSeconds"] <= 5
        (rule,) = webhook["rules"]
        assert rule["operations"] == ["CREATE"]
        assert rule["resources"] == ["simpods"]
        assert webhook["sideEffects"] == side_effects


def test_service_client_config_gets_the_handler_path() -> None:
    service = {"service": {"namespace": "ns", "name": "simpod", "port": 443}}
    (webhook,) = configuration(WEBHOOKS[1], service)["webhooks"]
    assert webhook["clientConfig"]["service"]["path"] == f"/{VALIDATE_ID}"


def test_self_signed_certificate_loads_and_names_the_hosts() -> None:
    cert, key = RegisteringWebhookServer.build_certificate(["127.0.0.1", "0.0.0.0", "svc.ns"])
    with tempfile.TemporaryDirectory() as tmp:
        certfile, keyfile = Path(tmp, "c.pem"), Path(tmp, "k.pem")
        certfile.write_bytes(cert)
        keyfile.write_bytes(key)
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    sans = x509.load_pem_x509_certificate(cert).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert [str(ip) for ip in sans.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert sans.value.get_values_for_type(x509.DNSName) == ["svc.ns"]
