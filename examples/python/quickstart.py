"""Tessera from a Python backend: register, sign in, read the profile, decode
an error's ErrorInfo, and read a few audit events with a service account key.

    sh examples/python/generate.sh
    TESSERA_ADDRESS=127.0.0.1:50051 TESSERA_API_KEY=tsk_... /usr/bin/python3 examples/python/quickstart.py

Needs Debian's python3-grpcio and python3-protobuf (use /usr/bin/python3,
which sees them). Prints one `key: value` line per step.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from tessera.v1 import (  # noqa: E402
    auth_service_pb2,
    auth_service_pb2_grpc,
    compliance_service_pb2,
    compliance_service_pb2_grpc,
    profile_service_pb2,
    profile_service_pb2_grpc,
)

ADDRESS = os.environ.get("TESSERA_ADDRESS", "127.0.0.1:50051")
API_KEY = os.environ.get("TESSERA_API_KEY", "")
DEADLINE_SECONDS = 10


def bearer(token):
    return (("authorization", "Bearer " + token),)


def error_info(error):
    """The google.rpc.ErrorInfo in a failed call's grpc-status-details-bin trailer, or None."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return info
    return None


def main():
    channel = grpc.insecure_channel(ADDRESS)
    auth = auth_service_pb2_grpc.AuthServiceStub(channel)
    profiles = profile_service_pb2_grpc.ProfileServiceStub(channel)
    compliance = compliance_service_pb2_grpc.ComplianceServiceStub(channel)

    email = "py-example-%d@example.com" % time.time_ns()
    password = "correct horse battery staple"
    registered = auth.Register(
        auth_service_pb2.RegisterRequest(email=email, password=password, full_name="Ada Lovelace"),
        timeout=DEADLINE_SECONDS,
    )
    print("registered: " + registered.user.id)

    signed_in = auth.Login(auth_service_pb2.LoginRequest(email=email, password=password), timeout=DEADLINE_SECONDS)
    print("token type: " + signed_in.tokens.token_type)

    got = profiles.GetProfile(
        profile_service_pb2.GetProfileRequest(),
        metadata=bearer(signed_in.tokens.access_token),
        timeout=DEADLINE_SECONDS,
    )
    print("profile name: " + got.profile.full_name)

    try:
        auth.Login(auth_service_pb2.LoginRequest(email=email, password="not the password"), timeout=DEADLINE_SECONDS)
    except grpc.RpcError as error:
        info = error_info(error)
        print("error code: %s" % error.code().name)
        print("error reason: %s (domain %s)" % (info.reason if info else None, info.domain if info else None))

    if not API_KEY:
        print("audit: skipped (set TESSERA_API_KEY to a service account key with the auditor role)")
        return
    # after_event_id=0 replays the trail from its start, then the stream stays open for new events.
    stream = compliance.StreamAuditEvents(
        compliance_service_pb2.StreamAuditEventsRequest(after_event_id=0),
        metadata=bearer(API_KEY),
        timeout=DEADLINE_SECONDS,
    )
    for count, message in enumerate(stream, start=1):
        print("audit event: %d %s" % (message.event.id, message.event.type_name))
        if count == 3:
            stream.cancel()
            break
    channel.close()


if __name__ == "__main__":
    main()
