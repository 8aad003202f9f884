"""script_write: the pipeline's scripting step for one VideoJob."""

from __future__ import annotations

import logging

from videos.llm import LlmError, llm_enabled
from videos.models import VideoJob
from videos.studio.types import Script

from .context import ScriptContext, script_context_build
from .llm_writer import LlmReplyError, script_llm_write
from .scoring import script_score, script_seconds_estimate
from .templates import script_template_write
from .types import WrittenScript

_LOGGER = logging.getLogger(__name__)


def script_write(*, job: VideoJob) -> WrittenScript:
    """The job's narration script: the LLM's when one is configured and answers well,
    else the template's. Raises ScriptWriteError when no script can be written."""
    context = script_context_build(job=job)
    draft = script_template_write(context=context)
    if not llm_enabled():
        return _written(script=draft, context=context, writer="template")
    try:
        script = script_llm_write(context=context, draft=draft)
    except (LlmError, LlmReplyError) as exc:
        reason = f"{'LLM error' if isinstance(exc, LlmError) else 'LLM reply unusable'}: {exc}"
    except Exception as exc:  # any LLM trouble must leave the template in place
        _LOGGER.exception("LLM script writer failed for job %s", job.pk)
        reason = f"LLM writer failed: {type(exc).__name__}"
    else:
        return _written(script=script, context=context, writer="llm")
    _LOGGER.warning("job %s: script from templates (%s)", job.pk, reason)
    return _written(script=draft, context=context, writer="template", fallback_reason=reason)


def _written(
    *, script: Script, context: ScriptContext, writer: str, fallback_reason: str = ""
) -> WrittenScript:
    seconds = script_seconds_estimate(
        script=script, voice_speed=context.voice_speed, think_seconds=context.think_seconds
    )
    return WrittenScript(
        script=script,
        target_seconds=seconds,
        voice_speed=context.voice_speed,
        gesture_level=context.gesture_level,
        slides=True,
        writer=writer,
        quality=script_score(script=script, context=context, target_seconds=seconds),
        fallback_reason=fallback_reason,
    )
