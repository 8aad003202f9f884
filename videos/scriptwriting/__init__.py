"""Script writing: a personal narration script per video type, from the knowledge base.

    written = script_write(job=job)      # WrittenScript; raises ScriptWriteError
    job.script = written.as_dict()

Templates are the default and the fallback; an OpenAI-compatible LLM (settings.
LLM_API_URL) rewrites the template draft when configured.
"""

from .context import ScriptContext, script_context_build
from .cv import CvError, cv_parse
from .introduction import script_introduction_write
from .scoring import script_score, script_seconds_estimate
from .templates import script_template_write
from .types import CvProfile, ScriptQuality, ScriptWriteError, WrittenScript
from .writer import script_write

__all__ = [
    "CvError",
    "CvProfile",
    "ScriptContext",
    "ScriptQuality",
    "ScriptWriteError",
    "WrittenScript",
    "cv_parse",
    "script_context_build",
    "script_introduction_write",
    "script_score",
    "script_seconds_estimate",
    "script_template_write",
    "script_write",
]
