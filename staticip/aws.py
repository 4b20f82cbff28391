"""Shared AWS plumbing: boto3 clients and one-line explanations of AWS failures.

Every command that talks to AWS builds its clients with :func:`client` and turns any boto3 or
botocore exception into a single readable line with :func:`explain`, so the messages a user sees
are the same whichever command hit the problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

# Standard mode retries throttling and transient errors with jittered backoff; 10 attempts rides
# out the bursts of throttling that DescribeNetworkInterfaces and ListFunctions see in busy
# accounts, so a throttling error that still reaches us means the account is persistently busy.
_RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})

_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_INVALID_CREDENTIAL_CODES = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
    }
)
_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)
# The subset of botocore's throttling codes (botocore/retries/standard.py) that mean "slow down"
# rather than "a quota is used up".
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "ResourceNotFound"})


class AwsError(Exception):
    """An AWS call failed; ``str(exc)`` is one line naming what failed and how to fix it."""


class WrongAccountError(AwsError):
    """The credentials reach another account than the environment's ``account_id``."""


def client(
    service: str, region: str | None, profile: str | None = None, role_arn: str | None = None
) -> BaseClient:
    """Return a boto3 client for ``service`` with standard-mode retries.

    ``region`` and ``profile`` fall back to boto3's usual sources (``AWS_REGION``,
    ``AWS_DEFAULT_REGION``, ``AWS_PROFILE``, the config file) when None. With ``role_arn`` the
    client uses that role's credentials, assumed through STS with the profile's (see
    :func:`session`). ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``
    variables are honoured by boto3 itself. Raises botocore's ``ProfileNotFound`` or
    ``NoRegionError``; pass them to :func:`explain`.
    """
    return session(region, profile, role_arn).client(service, config=_RETRY_CONFIG)


#: (profile, role ARN) -> the role's temporary credentials, so the several clients of one
#: command make one AssumeRole call between them.
_ASSUMED: dict[tuple[str | None, str], dict[str, Any]] = {}
#: (region, profile, role ARN, every AWS_* variable) -> the session a command's clients share:
#: one credential resolution (an SSO token read, a `credential_process` run, a profile's own
#: AssumeRole) per command instead of one per client. Any AWS_* change makes a new one.
_SESSIONS: dict[tuple[Any, ...], boto3.Session] = {}
ROLE_SESSION_NAME = "staticip"


def session(
    region: str | None, profile: str | None = None, role_arn: str | None = None
) -> boto3.Session:
    """A boto3 session for ``profile``, or for ``role_arn`` assumed with the profile's
    credentials, shared by every call with the same arguments and ``AWS_*`` variables. boto3
    sessions are not thread-safe: make clients in one thread (every command does), then share
    the clients. The role's credentials last STS's default hour: a command, or the ENI resolver
    (at most its 300 s wait), finishes well within it, so they are not refreshed."""
    key = (region, profile, role_arn, _aws_variables())
    if key not in _SESSIONS:
        _SESSIONS[key] = _new_session(region, profile, role_arn)
    return _SESSIONS[key]


def forget_sessions() -> None:
    """Drop the shared sessions and assumed-role credentials: the next client resolves its
    credentials again (tests do, since moto forgets its roles between tests)."""
    _SESSIONS.clear()
    _ASSUMED.clear()


def _aws_variables() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def _new_session(region: str | None, profile: str | None, role_arn: str | None) -> boto3.Session:
    base = boto3.Session(profile_name=profile, region_name=region)
    if role_arn is None:
        return base
    key = (profile, role_arn)
    if key not in _ASSUMED:
        sts = base.client("sts", config=_RETRY_CONFIG)
        _ASSUMED[key] = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)[
            "Credentials"
        ]
    creds = _ASSUMED[key]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=base.region_name,
    )


def check_account(sts: BaseClient, expected: str | None, environment: str) -> str:
    """The account ``sts``'s credentials belong to (one GetCallerIdentity call); raises
    :class:`WrongAccountError` when ``expected`` is given and differs, before anything else
    reads or changes the wrong account."""
    account = str(sts.get_caller_identity()["Account"])
    if expected is not None and account != expected:
        raise WrongAccountError(
            f"the AWS credentials are for account {account}, but environment '{environment}' "
            f"has account_id {expected}: use that account's profile (--profile, or `profile` / "
            "`assume_role_arn` in the environment)"
        )
    return account


def explain(exc: BaseException) -> str:
    """Turn an AWS-related exception into one line that names what failed and the fix."""
    if isinstance(exc, AwsError):
        return _one_line(str(exc))
    if isinstance(exc, ClientError):
        return _one_line(_explain_client_error(exc))
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE or run `aws sso login`"
    if isinstance(exc, PartialCredentialsError):
        return _one_line(f"incomplete AWS credentials ({exc}): set both the key id and the secret")
    if isinstance(exc, SSOError | TokenRetrievalError):
        return _one_line(f"AWS SSO credentials unusable ({exc}): run `aws sso login`")
    if isinstance(exc, CredentialRetrievalError):
        return _one_line(f"could not load AWS credentials ({exc}): check your AWS profile setup")
    if isinstance(exc, ProfileNotFound):
        return _one_line(f"{exc}: check AWS_PROFILE or --profile (`aws configure list-profiles`)")
    if isinstance(exc, NoRegionError):
        return "no AWS region configured: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return _one_line(
            f"cannot reach AWS ({exc}): check the network, the region name and AWS_ENDPOINT_URL"
        )
    if isinstance(exc, BotoCoreError):
        return _one_line(f"AWS SDK error: {exc}")
    return _one_line(f"{type(exc).__name__}: {exc}")


def _explain_client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip() or code
    call = exc.operation_name or "AWS call"
    if code in _EXPIRED_CODES:
        return f"{call}: AWS credentials have expired: run `aws sso login` or refresh your session"
    if code in _INVALID_CREDENTIAL_CODES:
        return (
            f"{call}: AWS rejected the credentials ({code}): check AWS_PROFILE or "
            "the access keys in the environment"
        )
    if code in _DENIED_CODES:
        return f"{call}: access denied ({message}): grant the caller permission for {call}"
    if code in _THROTTLING_CODES:
        return f"{call}: AWS kept throttling the request after retries ({code}): try again later"
    if code in _NOT_FOUND_CODES:
        return f"{call}: not found ({message}): check the name and the region"
    return f"{call} failed: {code}: {message}"


def _one_line(text: str) -> str:
    # Terraform's external data source and the CLI both promise a single error line.
    return " ".join(text.split())


#: The Global Accelerator API is served from us-west-2 only, whatever region the endpoints are in.
GLOBAL_ACCELERATOR_REGION = "us-west-2"


def paginate(client: BaseClient, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every `key` item of every page of `operation`."""
    return [
        item
        for page in client.get_paginator(operation).paginate(**params)
        for item in page.get(key, [])
    ]


def by_service(clients: Iterable[BaseClient | None]) -> dict[str, BaseClient]:
    """The clients given (None skipped) by boto3 service name: what a mode's checks look up."""
    return {c.meta.service_model.service_name: c for c in clients if c is not None}


def tags(resource: Mapping[str, Any]) -> dict[str, str]:
    """An EC2-style `Tags` list as a dict (`TagSet` where the API names it so: ENIs)."""
    listed = resource.get("Tags") or resource.get("TagSet") or []
    return {tag["Key"]: tag["Value"] for tag in listed}
