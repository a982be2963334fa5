"""The GX helper process of a refresh: work goes there and comes back, failures too."""

import os

import pytest

from orchestration.validate import gx, helper


def twice(settings, x: int) -> tuple[int, int, str]:
    return os.getpid(), 2 * x, str(settings.data_dir)


def broken_suite(settings) -> None:
    raise ValueError("expectations/x.json: an expectation has an unknown type")


def test_work_runs_in_the_helper_and_failures_come_back(settings):
    helper.start(gx.context_builder(settings))
    assert helper.active()
    pid, result, data_dir = helper.call(twice, settings, 21)
    assert pid != os.getpid() and result == 42 and data_dir == str(settings.data_dir)
    with pytest.raises(ValueError, match="unknown type") as failed:
        helper.call(broken_suite, settings)
    assert "in the GX helper process" in "".join(failed.value.__notes__)
    helper.start(
        gx.context_builder(settings)
    )  # a second refresh of the process keeps the same helper
    assert helper.call(twice, settings, 1)[0] == pid
