"""Required and optional sources (`required:` in sources/<name>.yml) in a run.

A required source without rows stops the refresh at its ingest, naming it: before anything is
ingested when no file matches (a missing drop must not empty the warehouse's copy of the
source), after the ingest when its files hold no accepted row. An optional source without rows
is normal (a company without budgets): the ingest says so, and the marts that need its rows
(meta.empty_if_no_rows_in of their suite) are published empty.
"""

from __future__ import annotations

from orchestration.ingest.load import IngestResult
from orchestration.ingest.readers import IngestError, discover_source
from orchestration.settings import Settings
from orchestration.sources.contracts import SourceContract


class MissingSourceError(IngestError):
    """A required source has no rows; the message names it and says why."""


def files_pattern(contract: SourceContract, settings: Settings) -> str:
    return str(settings.raw_dir / (contract.files or f"{contract.folder}/*"))


def require_files(contract: SourceContract, settings: Settings) -> None:
    """Stop before the ingest of a required source changes anything when it has no file."""
    if contract.required and not discover_source(
        settings.raw_dir, contract.folder, contract.files, contract.file_type
    ):
        reason = f"no file matches {files_pattern(contract, settings)}"
        raise MissingSourceError(_missing(contract, reason))


def no_rows_reason(
    contract: SourceContract, result: IngestResult, settings: Settings
) -> str | None:
    """Why the source has no accepted row (None: it has some)."""
    if result.accepted_rows:
        return None
    if not result.files:
        return f"no file matches {files_pattern(contract, settings)}"
    if not result.raw_rows:
        return f"{len(result.files)} file(s) without data rows"
    reasons = ", ".join(f"{n:,} {why}" for why, n in list(result.reasons.items())[:3])
    return f"all {result.raw_rows:,} rows quarantined ({reasons})"


def check_rows(
    contract: SourceContract, result: IngestResult, settings: Settings, empty_marts: list[str]
) -> str | None:
    """None when the source has rows; for an optional one without, the line the run reports;
    a required one without stops the refresh (MissingSourceError)."""
    reason = no_rows_reason(contract, result, settings)
    if reason is None:
        return None
    if contract.required:
        raise MissingSourceError(_missing(contract, reason))
    verb = "is" if len(empty_marts) == 1 else "are"
    marts = f": {', '.join(empty_marts)} {verb} empty" if empty_marts else ""
    return f"{contract.name} had no rows (optional source; {reason}){marts}"


def _missing(contract: SourceContract, reason: str) -> str:
    return (
        f"required source {contract.name} has no rows: {reason} (sources/{contract.name}.yml "
        "declares required: true); the refresh stops here, published/current is unchanged"
    )
