"""The rotation drill through the real CLI: does replacing a token drop provisioning requests?

The drill's identity-provider client (``benchmarks.drill.Provisioner``) provisions a user every
20 ms with the token it was last handed. The program's consumer is a second dynamic resource,
an Okta-connection stand-in, whose create and update hand their ``token`` input to that client
over loopback before they return. An input change then replaces the token through `pulumi up`.
The drill's rule makes the outcome certain: at the hand-over the client first sends one request
with the token it still holds, so under create-before-delete (the old token is revoked only
after every registration) that request succeeds, and under ``delete_before_replace`` (revoked
before the new one exists) it fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.drill import SETTLE_REQUESTS, Provisioner
from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import state_ids
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

PROGRAM = """
import urllib.request

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from localskills_pulumi import ScimToken


class Handover(ResourceProvider):
    def _hand(self, props):
        request = urllib.request.Request(props["handover_url"], data=props["token"].encode())
        urllib.request.urlopen(request, timeout=30).read()
        return {{"handover_url": props["handover_url"]}}

    def create(self, props):
        return CreateResult("connection", outs=self._hand(props))

    def diff(self, _id, olds, news):
        return DiffResult(changes=True)

    def update(self, _id, olds, news):
        return UpdateResult(outs=self._hand(news))


class Connection(Resource):
    def __init__(self, name, token, handover_url):
        super().__init__(Handover(), name, {{"token": token, "handover_url": handover_url}})


config = pulumi.Config()
token = ScimToken("okta", tenant_id=config.require("tenant"), name=config.require("name"),
                  expires_in_days=30,
                  opts=pulumi.ResourceOptions(delete_before_replace={delete_before_replace}))
Connection("okta-connection", token.token_value, config.require("handover"))
"""


@pytest.fixture
def client(clean_emulator: Emulator) -> Iterator[tuple[Provisioner, str]]:
    """The drill's SCIM client, and the loopback URL that hands it a token."""
    provisioner = Provisioner(clean_emulator.base_url, period=0.02)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            provisioner.hand(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provisioner, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        provisioner.stop()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("delete_before_replace", [False, True], ids=["default", "dbr"])
def test_a_replacement_drops_no_provisioning_request_only_with_create_before_delete(
    make_project: MakeProject,
    clean_emulator: Emulator,
    tenant_id: str,
    client: tuple[Provisioner, str],
    delete_before_replace: bool,
) -> None:
    provisioner, handover_url = client
    project = make_project(PROGRAM.format(delete_before_replace=delete_before_replace))
    for key, value in [("tenant", tenant_id), ("name", "Okta SCIM"), ("handover", handover_url)]:
        project.run("config", "set", key, value)
    project.up()
    old_token = provisioner.token
    provisioner.start()
    provisioner.wait_for(SETTLE_REQUESTS, token=0)

    project.run("config", "set", "name", "Okta SCIM (renamed)")
    project.up()
    provisioner.wait_for(SETTLE_REQUESTS, token=1)
    provisioner.stop()

    [switch] = [a for a in provisioner.attempts if a.at_switch]
    failed = [a for a in provisioner.attempts if not a.ok]
    if delete_before_replace:
        assert switch.status == 401  # the old token was revoked before the new one existed
        assert failed and all(a.token == 0 for a in failed)
    else:
        assert switch.status == 201
        assert failed == []
    assert provisioner.generation == 1
    assert live_ids(clean_emulator, tenant_id) == state_ids(project)
    assert old_token is not None and clean_emulator.scim_get_users(old_token).status_code == 401
    assert provisioner.token is not None
    assert clean_emulator.scim_get_users(provisioner.token).status_code == 200
