"""moto's server on one thread, for the test command and the benchmarks.

`moto_server` serves requests on many threads, and moto's DynamoDB is not
thread-safe: two conditional transactions racing on one key can both win
there, which real DynamoDB never allows. Served on one thread, moto applies
each request atomically as DynamoDB does, while requests from many clients
still interleave, so the application's own races stay testable.

    python scripts/moto-server.py PORT        (run with the venv's python)

`INITIAL_NO_AUTH_ACTION_COUNT=N` in the environment makes this instance
enforce IAM after its first N requests (moto reads it at import). Such an
instance still checks that every request's access key (and session token)
exists and that its policies allow the action; it does not compare SigV4
signatures of form-encoded (query-protocol: SNS, STS, IAM) requests, whose
body moto re-encodes before signing it again, so the Rust SDK's valid
signatures fail there (`SignatureDoesNotMatch` on `sns:Publish`); JSON and
REST requests (DynamoDB, SES v2, Secrets Manager) are compared as sent.

Lambda's `Invoke` is authorized as AWS does it (`authorize_invoke_as_aws`):
moto would check the action `lambda:Invoke` (the operation's name) on the
resource `*`, so a role allowed `lambda:InvokeFunction` on one function's
ARN (what template.yaml grants) would be refused every function, and one
allowed `lambda:Invoke` on `*` would be allowed them all. Here moto's own
policy evaluation checks `lambda:InvokeFunction` on the invoked function's
ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`), so
tests/deploy/iam.rs can prove a function's role reaches the configured hook
functions and no other.
"""

import signal
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def compare_signatures_moto_can_recompute() -> None:
    from moto.iam.access_control import IAMRequest

    compare = IAMRequest.check_signature

    def check_signature(self) -> None:
        content_type = {k.lower(): v for k, v in dict(self._headers).items()}.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            return
        compare(self)

    IAMRequest.check_signature = check_signature


def authorize_invoke_as_aws() -> None:
    from urllib.parse import parse_qs, unquote, urlparse

    from moto.awslambda.responses import LambdaResponse
    from moto.iam.access_control import IAMRequest

    class InvokeFunction(IAMRequest):
        def __init__(self, **kwargs):
            kwargs["action"] = "InvokeFunction"
            super().__init__(**kwargs)

    authorize = LambdaResponse._authenticate_and_authorize_normal_action

    def authorize_invoke(self, resource: str = "*") -> None:
        path = urlparse(self.uri).path
        if self.method != "POST" or not path.rstrip("/").endswith("/invocations"):
            return authorize(self, resource)
        name = unquote(path.rstrip("/").split("/")[-2])
        if not name.startswith("arn:"):
            name = f"arn:aws:lambda:{self.region}:{self.current_account}:function:{name}"
        qualifier = parse_qs(urlparse(self.uri).query).get("Qualifier", [None])[0]
        if qualifier and name.count(":") == 6:
            name = f"{name}:{qualifier}"
        self._authenticate_and_authorize_action(InvokeFunction, name)

    LambdaResponse._authenticate_and_authorize_normal_action = authorize_invoke


def main() -> None:
    port = int(sys.argv[1])
    compare_signatures_moto_can_recompute()
    authorize_invoke_as_aws()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
