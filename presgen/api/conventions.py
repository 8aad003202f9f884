"""Which DRF views follow the PresGen API's conventions (error shape, throttling, schema).

Kept free of DRF view imports: the throttle classes import it while DRF's settings load.
"""

from __future__ import annotations

from typing import Any

# DRF views with an error contract of their own (the PresGen-Avatar-compatible API):
# they keep DRF's default error bodies, no throttling and their own schema answers.
OWN_CONVENTION_MODULES = ("videos.avatar_api",)


def api_conventions_apply(view: Any) -> bool:
    """True for the PresGen API's views (/api/v1/ except the avatar API)."""
    return view is None or not type(view).__module__.startswith(OWN_CONVENTION_MODULES)
