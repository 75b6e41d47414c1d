"""Reading a configured secret: from an environment variable or a command's first output line.

The value is returned to the caller and nothing else: never logged, never put in an error.
"""

from __future__ import annotations

import os
import subprocess

from sdesk.config import Secret

COMMAND_TIMEOUT = 30


class SecretError(Exception):
    """The secret could not be read; the message says where it was looked for, never its value."""


def read_secret(secret: Secret, what: str) -> str:
    if secret.password_env:
        value = os.environ.get(secret.password_env)
        if not value:
            raise SecretError(f"{what}: environment variable {secret.password_env} is not set")
        return value
    if secret.password_command:
        return run_secret_command(secret.password_command, what)
    raise SecretError(f"{what}: no password_env or password_command configured")


def run_secret_command(command: str, what: str) -> str:
    """Run a PassCmd-style shell command; its first line is the secret."""
    try:
        done = subprocess.run(
            command,
            shell=True,  # the admin's own command line, as mail clients run PassCmd
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SecretError(f"{what}: command timed out after {COMMAND_TIMEOUT}s") from None
    if done.returncode != 0:
        raise SecretError(f"{what}: command exited with status {done.returncode}")
    lines = done.stdout.splitlines()
    if not lines or not lines[0].strip():
        raise SecretError(f"{what}: command printed nothing")
    return lines[0].strip()
