"""The board's code in its layers (issue 15): shapes in service/board/schemas.py, the work in
service/board/service.py, the HTTP routes in service/api/board.py; pages, consoles and the CLI call the
service functions, never a route handler."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ROOT / "service"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_pages_and_the_cli_do_not_call_the_board_routes() -> None:
    callers = sorted((SERVICE / "pages").glob("*.py")) + sorted((SERVICE / "cli").glob("*.py"))
    assert len(callers) > 5
    offenders = [str(p.relative_to(ROOT)) for p in callers if "service.api.board" in imported_modules(p)]
    assert offenders == []
    users = [p.name for p in callers if "service.board.service" in imported_modules(p)]
    assert {"board.py", "board_console.py"} <= set(users)


def test_the_board_routes_module_holds_routes_only() -> None:
    tree = ast.parse((SERVICE / "api" / "board.py").read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    helpers = [
        f.name
        for f in functions
        if f.name != "get_board"  # the dependency that gives a route the board's client
        and not any(isinstance(d, ast.Call) and ast.unparse(d.func).startswith("router.") for d in f.decorator_list)
    ]
    assert classes == [] and helpers == []
    assert len(functions) == 10  # nine routes and get_board
    for route in functions[1:]:  # each route's body: its docstring and one call of service.board.service
        calls = {ast.unparse(n.func) for n in ast.walk(route) if isinstance(n, ast.Call)}
        assert any(call.startswith("service.") for call in calls), route.name
        assert len(route.body) <= 4, f"{route.name} holds logic: {ast.unparse(route)}"
