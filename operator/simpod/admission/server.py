"""Where the admission webhooks listen, and how the API server is told to call them.

Kopf serves the webhooks, but its managed mode writes ``timeoutSeconds: 30`` for every
webhook, which would let a hung operator stall each SimPod creation for a minute. So the
server registers the two configurations itself, each time Kopf's server (re)starts:

- mutating (presets, legacy init containers, defaults, finalizer): ``failurePolicy:
  Ignore``, 5 s. All of it is best effort: a pod that misses it is still a valid pod (Kopf
  adds the finalizer on first sight anyway).
- validating (privileged, cross-field rules): ``failurePolicy: Fail``, 5 s, since it
  enforces a policy.

Both match only CREATE of simpods, so updates, status writes, finalizer removal and
deletion never depend on the operator: a stopped or crashed operator cannot wedge
deletions or namespaces. On a clean stop both configurations are deleted (only if they
still point at this process: another operator may have taken over). After a crash they
stay until the next start re-registers them: SimPod creations are then refused at once
("connection refused") rather than admitted without the privileged check.

Several operators on one cluster (e.g. test sessions sharing a control plane): the last
to start owns the configurations; when it stops and deletes them, a survivor sees the
deletion on its watch and registers itself again. Nobody re-registers on a mere change,
so two live operators never fight over them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import kopf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from simpod.api.group import GROUP, SIMPOD, VERSION
from simpod.kube import new_api_client

CONFIGURATION_NAME = "simpod.dev"
MUTATE_ID = "mutate-simpod"
VALIDATE_ID = "validate-simpod"
FIELD_MANAGER = "simpod-admission"
APPLY_PATCH = "application/apply-patch+yaml"
_CERT_VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class Webhook:
    """One webhook: the Kopf handler it calls and how the API server treats failures."""

    handler_id: str
    mutating: bool
    failure_policy: str
    timeout_seconds: int = 5
    side_effects: str = "None"

    @property
    def kind(self) -> str:
        prefix = "Mutating" if self.mutating else "Validating"
        return f"{prefix}WebhookConfiguration"


WEBHOOKS = (
    Webhook(MUTATE_ID, mutating=True, failure_policy="Ignore"),
    # It starts the task that posts preset-conflict Events (never on a dry run).
    Webhook(VALIDATE_ID, mutating=False, failure_policy="Fail", side_effects="NoneOnDryRun"),
)


def configuration(webhook: Webhook, client_config: Mapping[str, Any]) -> dict[str, Any]:
    """The whole configuration object for one webhook, from Kopf's server client config."""
    entry: dict[str, Any] = {
        "name": f"{webhook.handler_id}.{CONFIGURATION_NAME}",
        "clientConfig": _for_handler(client_config, webhook.handler_id),
        "rules": [
            {
                "apiGroups": [GROUP],
                "apiVersions": [VERSION],
                "resources": [SIMPOD.plural],
                "operations": ["CREATE"],
                "scope": "Namespaced",
            }
        ],
        "failurePolicy": webhook.failure_policy,
        "matchPolicy": "Equivalent",
        "sideEffects": webhook.side_effects,
        "timeoutSeconds": webhook.timeout_seconds,
        "admissionReviewVersions": ["v1"],
    }
    if webhook.mutating:
        # Idempotent, so a re-run after a later webhook added containers is safe.
        entry["reinvocationPolicy"] = "IfNeeded"
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": webhook.kind,
        "metadata": {
            "name": CONFIGURATION_NAME,
            "labels": {"app.kubernetes.io/managed-by": "simpod"},
        },
        "webhooks": [entry],
    }


def _for_handler(client_config: Mapping[str, Any], handler_id: str) -> dict[str, Any]:
    """Kopf routes a request to the handler whose id ends the URL path."""
    result = dict(client_config)
    if "url" in result:
        result["url"] = f"{str(result['url']).rstrip('/')}/{handler_id}"
    if "service" in result:
        service = dict(result["service"])
        service["path"] = f"{str(service.get('path', '')).rstrip('/')}/{handler_id}"
        result["service"] = service
    return result


class RegisteringWebhookServer(kopf.WebhookServer):
    """Kopf's HTTPS server plus the registration above; self-signed cert via cryptography.

    ``service`` (namespace, name): register a Service reference instead of the URL Kopf
    builds (a real cluster, whose API server reaches the operator through a Service).
    """

    def __init__(self, *, service: tuple[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service

    async def __call__(self, fn: kopf.WebhookFn) -> AsyncIterator[kopf.WebhookClientConfig]:
        api_client = await new_api_client()
        api = client.AdmissionregistrationV1Api(api_client)
        registered: Mapping[str, Any] | None = None
        keepers: list[asyncio.Task[None]] = []
        try:
            async for client_config in super().__call__(fn):
                registered = self._registered_config(client_config)
                for task in keepers:
                    task.cancel()
                keepers = [
                    asyncio.create_task(_keep_registered(api, w, configuration(w, registered)))
                    for w in WEBHOOKS
                ]
                yield client_config
        finally:
            for task in keepers:
                task.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
            if registered is not None:
                for webhook in WEBHOOKS:
                    await _delete_if_ours(api, webhook, registered)
            await api_client.close()

    def _registered_config(self, client_config: Mapping[str, Any]) -> dict[str, Any]:
        if self.service is None:
            return dict(client_config)
        namespace, name = self.service
        result = {key: value for key, value in client_config.items() if key != "url"}
        result["service"] = {"namespace": namespace, "name": name, "port": 443}
        return result

    @staticmethod
    def build_certificate(
        hostnames: Collection[str], password: str | None = None
    ) -> tuple[bytes, bytes]:
        """A self-signed serving certificate for `hostnames`, which is also its own CA.

        Kopf's default needs ``certbuilder``/``oscrypto``; the project already depends on
        ``cryptography`` (the control plane's PKI), so the certificate is made with it.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in dict.fromkeys(hostnames):
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                names.append(x509.DNSName(host))
            else:
                if not address.is_unspecified:
                    names.append(x509.IPAddress(address))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simpod-admission")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _CERT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(key, hashes.SHA256())
        )
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        return (
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            ),
        )


async def _apply(api: Any, webhook: Webhook, body: dict[str, Any]) -> None:
    method = (
        api.patch_mutating_webhook_configuration
        if webhook.mutating
        else api.patch_validating_webhook_configuration
    )
    await method(
        CONFIGURATION_NAME,
        body,
        field_manager=FIELD_MANAGER,
        force=True,
        _content_type=APPLY_PATCH,
    )


async def _keep_registered(api: Any, webhook: Webhook, body: dict[str, Any]) -> None:
    """Register, then register again whenever the configuration is deleted."""
    list_configurations = (
        api.list_mutating_webhook_configuration
        if webhook.mutating
        else api.list_validating_webhook_configuration
    )
    selector = f"metadata.name={CONFIGURATION_NAME}"
    await _apply(api, webhook, body)
    while True:
        try:
            current = await list_configurations(field_selector=selector)
            if not current.items:  # deleted while no watch was open
                await _apply(api, webhook, body)
            async with watch.Watch().stream(
                list_configurations,
                field_selector=selector,
                resource_version=current.metadata.resource_version,
                timeout_seconds=300,
            ) as stream:
                async for event in stream:
                    if event["type"] == "DELETED":
                        await _apply(api, webhook, body)
        except (TimeoutError, ApiException, aiohttp.ClientError, OSError):
            await asyncio.sleep(1)


async def _delete_if_ours(api: Any, webhook: Webhook, registered: Mapping[str, Any]) -> None:
    """Delete the configuration unless another operator re-registered it meanwhile."""
    if webhook.mutating:
        read, delete = (
            api.read_mutating_webhook_configuration,
            api.delete_mutating_webhook_configuration,
        )
    else:
        read, delete = (
            api.read_validating_webhook_configuration,
            api.delete_validating_webhook_configuration,
        )
    expected = _for_handler(registered, webhook.handler_id)
    with contextlib.suppress(ApiException):
        current = await read(CONFIGURATION_NAME)
        config = current.webhooks[0].client_config if current.webhooks else None
        if config is None or (config.url, _service_path(config)) != (
            expected.get("url"),
            (expected.get("service") or {}).get("path"),
        ):
            return
        await delete(
            CONFIGURATION_NAME,
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(
                    resource_version=current.metadata.resource_version
                )
            ),
        )


def _service_path(config: Any) -> str | None:
    return config.service.path if config.service is not None else None
