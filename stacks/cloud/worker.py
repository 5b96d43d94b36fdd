"""One stack operation in its own process: `python -m stacks.cloud.worker OP PROJECT STACK
[SPEC_FILE]` (see workspace.py). Prints Pulumi's progress, then one result line.

The backend and the passphrase come from PULUMI_BACKEND_URL and
PULUMI_CONFIG_PASSPHRASE_FILE, set by the parent. Destroy, cancel, refresh and outputs
need no program and no scenario: the stack name, backend and passphrase are enough.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

from stacks.cloud.workspace import RESULT_PREFIX


def spec_from_json(text: str):
    from stacks.cloud.spec import CloudSiteSpec, DatabaseSpec, DiskSpec, HostKey

    d = json.loads(text)
    d["zones"] = tuple(d["zones"])
    d["disk"] = DiskSpec(**d["disk"])
    d["database"] = DatabaseSpec(**d["database"]) if d.get("database") else None
    d["host_keys"] = {k: HostKey(**v) for k, v in d["host_keys"].items()}
    return CloudSiteSpec(**d)


def _plain(outputs: Any) -> dict[str, Any]:
    return {k: v.value for k, v in outputs.items()}


def main(argv: list[str]) -> int:
    from pulumi import automation as auto

    op, project, stack_name = argv[:3]
    opts = auto.LocalWorkspaceOptions(project_settings=auto.ProjectSettings(
        name=project, runtime="python", backend=None))

    def emit(ok: bool, value: Any = None, error: str = "", kind: str = "") -> None:
        print(RESULT_PREFIX + json.dumps({"ok": ok, "value": value, "error": error,
                                          "kind": kind}), flush=True)

    try:
        if op == "up":
            from stacks.cloud.spec import program_for

            spec = spec_from_json(Path(argv[3]).read_text())
            program = program_for(spec.provider)
            stack = auto.create_or_select_stack(stack_name=stack_name, project_name=project,
                                                program=lambda: program(spec), opts=opts)
            res = stack.up(on_output=lambda line: print(line, flush=True), color="never")
            emit(True, _plain(res.outputs))
            return 0
        try:
            stack = auto.select_stack(stack_name=stack_name, project_name=project,
                                      program=lambda: None, opts=opts)
        except auto.StackNotFoundError:
            emit(True, None)  # nothing to destroy / no outputs
            return 0
        if op == "outputs":
            emit(True, _plain(stack.outputs()))
        elif op == "destroy":
            stack.destroy(on_output=lambda line: print(line, flush=True), color="never")
            stack.workspace.remove_stack(stack_name)
            emit(True)
        elif op == "cancel":
            stack.cancel()
            emit(True)
        elif op == "refresh":
            stack.refresh(on_output=lambda line: print(line, flush=True), color="never")
            emit(True)
        else:
            emit(False, error=f"unknown operation {op}")
            return 2
    except auto.ConcurrentUpdateError as e:
        emit(False, error=str(e)[-2000:], kind="locked")
        return 1
    except KeyboardInterrupt:
        emit(False, error="interrupted", kind="interrupted")
        return 130
    except Exception as e:
        traceback.print_exc(file=sys.stdout)
        emit(False, error=f"{type(e).__name__}: {str(e)[-2000:]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
