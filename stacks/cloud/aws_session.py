"""One way to open a boto3 session, so a bad AWS_PROFILE is a message, not a crash.

boto3 raises ProfileNotFound while *constructing* a session (before any call) when
AWS_PROFILE names a profile that is not configured, an empty AWS_PROFILE included; every
command that talks to AWS opens its session here and turns that into a prerequisite error.
"""

from __future__ import annotations

import os
from typing import Any

from core.errors import PrerequisiteError


def aws_session() -> Any:
    """A boto3 Session, or PrerequisiteError naming the profile and the fix."""
    import boto3
    import botocore.exceptions

    try:
        return boto3.session.Session()
    except botocore.exceptions.ProfileNotFound:
        profile = os.environ.get("AWS_PROFILE")
        raise PrerequisiteError(
            f"AWS_PROFILE={profile!r} names no configured AWS profile; "
            "fix: unset AWS_PROFILE, or create it (aws configure --profile NAME)") from None
