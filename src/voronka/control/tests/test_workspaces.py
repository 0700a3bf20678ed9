"""The scheduled jobs' walk over the workspaces: one that fails never stops the others."""

import logging

from voronka.control.workspaces import for_each_workspace


def test_a_failing_workspace_is_logged_and_the_others_still_get_their_turn(org, other_org, caplog):
    seen = []

    def work(workspace):
        seen.append(workspace.id)
        if workspace.id == org.workspace.id:
            raise RuntimeError("the mail server refused")
        return workspace.name

    with caplog.at_level(logging.ERROR, logger="voronka.control"):
        results = for_each_workspace(work, "the digest")

    assert seen == sorted([org.workspace.id, other_org.workspace.id])
    assert results == [other_org.workspace.name]
    assert f"the digest of workspace {org.workspace.id} failed" in caplog.text
