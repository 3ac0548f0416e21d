"""The layers (docs/architecture.md): imports run one way, and nothing hides a cycle.

Every import of every project module is read, module level and inside functions alike:

- no cycle among the project's modules;
- no import inside a function from one project package into another (a lazy import is not a way
  around a cycle);
- below the entry points, each app imports only the layers under it:
  leads ← sequences ← alerts ← flows ← integrations (the channels' adapters); reports reads
  leads, sequences and alerts.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("leads", "sequences", "alerts", "reports", "realtycrm", "integrations")
# Entry points call flows and anything else; they sit on top of every layer.
ENTRY_POINTS = {"views", "webhooks", "admin", "tasks", "management", "urls", "apps", "wsgi", "asgi"}
MAY_IMPORT = {
    # The shared helpers every app uses (clock, formats, http): on nothing of the apps.
    "realtycrm": {"realtycrm"},
    "leads": {"realtycrm", "leads"},
    "sequences": {"realtycrm", "leads", "sequences"},
    "alerts": {"realtycrm", "leads", "sequences", "alerts"},
    "reports": {"realtycrm", "leads", "sequences", "alerts", "reports"},
    "flows": {"realtycrm", "leads", "sequences", "alerts", "flows"},
    # The channels' adapters sit on the intake flow: nothing below imports them.
    "integrations": {"realtycrm", "leads", "sequences", "alerts", "flows", "integrations"},
}


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = project_modules()


def resolve(name: str) -> str | None:
    """The longest project module that `name` names or lies inside."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import in `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = resolve(name)
            if target is not None and target != module:
                found.append((target, node.lineno, id(node) in in_function))
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> str | None:
    """The module's layer, or None for an entry point."""
    parts = module.split(".")
    if ENTRY_POINTS & set(parts) or module.startswith("realtycrm.settings"):
        return None
    if parts[:2] == ["realtycrm", "flows"]:
        return "flows"
    return parts[0]


def cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    edges = defaultdict(set)
    for module, imports in GRAPH.items():
        edges[module] |= {target for target, _, _ in imports}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    return groups


def test_the_graph_reads_the_whole_project():
    assert {"leads.models", "sequences.outbox", "alerts.services", "realtycrm.flows.intake"} <= set(
        GRAPH
    )
    assert ("leads.intake", 0, False) not in GRAPH["realtycrm.flows.intake"]
    assert "leads.intake" in {target for target, _, _ in GRAPH["realtycrm.flows.intake"]}


def test_no_import_cycle_between_the_projects_modules():
    assert cycles() == []


def test_no_import_inside_a_function_crosses_packages():
    hidden = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, imports in GRAPH.items()
        for target, line, inside in imports
        if inside and target.split(".")[0] != module.split(".")[0]
    ]
    assert hidden == []


def test_each_layer_imports_only_the_layers_below_it():
    upward = [
        f"{module} imports {target}"
        for module, imports in GRAPH.items()
        if (layer := layer_of(module)) is not None
        for target, _, _ in imports
        if (layer_of(target) or "entry point") not in MAY_IMPORT[layer]
    ]
    assert upward == []
