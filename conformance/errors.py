"""The suite's exceptions, in one place: what each means and which front end turns it into what.

Every exception that crosses a module of the suite is here; two kinds of control flow stay
private to the one module that raises and catches them (``cases.search._Stop`` and
``CheckFailure``, which end and steer a Hypothesis search, and
``judging.diagnosis._TooManyUnknowns``, which ends a diagnosis early).

What each becomes: LoadError (CapabilitiesError and CannotRecreate on the way to it) and
CaseFileError, the command line's exit status 2, as VectorsError is ``verify``'s; an answer's
StructureError, ExactError, WireError or JSONInputError, a failing ``structure`` verdict;
Unusable, a case that is not judged; a bug of the suite, SuiteError inside a search and
InternalError outside it, exit status 3. The ValueErrors among them are input that is not
acceptable (an answer, a file, a declaration), each message naming what and why.
"""

from __future__ import annotations


class LoadError(Exception):
    """The implementation cannot be loaded or started (exit status 2 of the command line)."""


class CannotRecreate(Exception):
    """The worker could not unpickle the object (the caller then runs it in process)."""


class CapabilitiesError(ValueError):
    """The implementation's ``capabilities`` cannot be understood."""


class JSONInputError(ValueError):
    """Untrusted JSON that is not acceptable; ``str()`` is one line naming the source and the problem."""


class ExactError(ValueError):
    """An exact number that cannot be judged (too large for the dtype, too many digits, malformed)."""


class WireError(ValueError):
    """A worker's line that is not in this format (the implementation wrote to the channel?)."""


class StructureError(ValueError):
    """The answer lacks the contract's shape; the message names field, layer, expected, got."""

    def __init__(self, message: str, layer: int | None = None) -> None:
        super().__init__(message)
        self.layer = layer


class Unusable(ValueError):
    """The case cannot be judged (the reference overflows, or a relu sign is ambiguous)."""


class CaseFileError(ValueError):
    """A case file that cannot be replayed; ``str()`` is one line naming the file, the field and the problem."""


class VectorsError(Exception):
    """The vector set itself is unusable (missing, or not what its manifest hashes)."""


class SuiteError(BaseException):
    """The suite's own code raised while judging a case, inside a search: a bug of the suite, never a verdict.

    A BaseException, so that Hypothesis neither retries nor shrinks it (a retry would
    ask the implementation again and could hide the problem behind a "flaky" report). The
    runner turns it into InternalError, once the case is saved: the same idea at the other
    end, where it must be an Exception (a caller's ``except Exception`` catches it, as
    parametrize_with_checks' shared run does). One class cannot be both.
    """

    def __init__(self, case: object, eta: float, permutation: tuple[int, ...], detail: str) -> None:
        super().__init__(detail)
        self.case = case
        self.eta = eta
        self.permutation = permutation
        self.detail = detail


class InternalError(Exception):
    """The suite itself failed while judging a case (exit status 3); the case is saved when it can be.

    Raised by check_implementation and replay (from a SuiteError, or a replayed case's own).
    """

    def __init__(self, message: str, case_file: str | None) -> None:
        super().__init__(message)
        self.case_file = case_file
