"""A message's status changes only through messaging.transitions, and only along its table."""

import ast
import textwrap
from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from core.vocabulary import MessageKind
from messaging import transitions
from messaging.models import Message
from messaging.transitions import PROGRESS, TRANSITIONS, InvalidTransition
from messaging.webhooks import TWILIO_STATUS
from tests.factories import ClientFactory

Status = Message.Status
EDGES = sorted((source, to) for source, targets in TRANSITIONS.items() for to in targets)
NOT_EDGES = sorted((source, to) for source in Status for to in Status if (source, to) not in EDGES)
ROOT = Path(__file__).resolve().parent.parent
NOT_SCANNED = {"tests", "bench", "migrations", "node_modules", "static", "var", "venv", "__pycache__"}


# The table.

def test_the_table_names_every_status_and_only_statuses():
    assert set(TRANSITIONS) == set(Status)
    assert set().union(*TRANSITIONS.values()) <= set(Status)


def test_no_step_goes_backwards_but_the_retry():
    backwards = [(source, to) for source, to in EDGES
                 if source in PROGRESS and to in PROGRESS and PROGRESS[to] < PROGRESS[source]]
    assert backwards == [(Status.SENDING, Status.PENDING)]


@pytest.mark.parametrize("current", list(Status))
def test_a_delivery_report_moves_a_message_only_forward(current):
    # The rule the webhooks applied with their own rank table before: forward, and never from a status not ranked.
    for reported in set(TWILIO_STATUS.values()):
        assert transitions.allowed(current, reported) == (PROGRESS.get(current, 99) < PROGRESS[reported])


@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_in_memory(source, to):
    message = Message(status=source)
    transitions.move(message, to)
    assert message.status == to


@pytest.mark.parametrize(("source", "to"), NOT_EDGES)
def test_a_step_not_in_the_table_raises(source, to):
    message = Message(status=source)
    with pytest.raises(InvalidTransition):
        transitions.move(message, to)
    assert message.status == source


@pytest.mark.parametrize(("source", "to"), [("bogus", Status.PENDING), (Status.PENDING, "bogus")])
def test_an_unknown_status_raises(source, to):
    with pytest.raises(InvalidTransition):
        transitions.move(Message(status=source), to)


def test_a_new_message_starts_pending_or_blocked_only():
    for status in (Status.PENDING, Status.BLOCKED):
        message = Message()
        transitions.begin(message, status)
        assert message.status == status
    with pytest.raises(InvalidTransition):
        transitions.begin(Message(), Status.SENT)


# Rows in the database: one message in each status.

@pytest.fixture
def one_of_each(salon):
    client = ClientFactory(salon=salon)
    Message.objects.bulk_create(
        Message(salon=salon, client=client, kind=MessageKind.APPOINTMENT_CONFIRMATION, channel="sms", language="en",
                body="Hello", status=status, dedupe_key=f"transitions:{status}")
        for status in Status
    )
    return {m.status: m for m in Message.objects.all()}


def statuses():
    return dict(Message.objects.values_list("dedupe_key", "status"))


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_to_a_locked_row(one_of_each, source, to):
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=one_of_each[source].pk)
        transitions.move(locked, to)
        transitions.save(locked, ["updated_at"])
    assert Message.objects.get(pk=locked.pk).status == to


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), EDGES)
def test_each_step_applies_to_rows_in_one_update_that_counts_them(one_of_each, source, to,
                                                                  django_assert_num_queries):
    before = statuses()
    with django_assert_num_queries(1):
        moved = transitions.move_rows(Message.objects.all(), source, to, updated_at=timezone.now())
    assert moved == 1  # only the row in `source`; the others are left as they were
    assert statuses() == {**before, f"transitions:{source}": to}


@pytest.mark.django_db
def test_rows_that_left_the_source_first_are_not_moved(one_of_each):
    sending = one_of_each[Status.SENDING]
    assert transitions.move_rows(Message.objects.filter(pk=sending.pk), Status.SENDING, Status.SENT) == 1
    # A second worker, or a report that arrived first: the row is no longer `sending`, nothing happens.
    assert transitions.move_rows(Message.objects.filter(pk=sending.pk), Status.SENDING, Status.UNKNOWN) == 0
    assert Message.objects.get(pk=sending.pk).status == Status.SENT


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "to"), [(Status.SENT, Status.PENDING), (Status.DELIVERED, Status.FAILED)])
def test_rows_cannot_be_moved_along_a_step_not_in_the_table(one_of_each, source, to, django_assert_num_queries):
    before = statuses()
    with django_assert_num_queries(0), pytest.raises(InvalidTransition):
        transitions.move_rows(Message.objects.all(), source, to)
    assert statuses() == before


@pytest.mark.django_db
def test_a_saved_message_cannot_begin_again(one_of_each):
    with pytest.raises(InvalidTransition):
        transitions.begin(one_of_each[Status.PENDING], Status.PENDING)


# Nobody else writes a status: a scanner over the project's source.

class StatusWrites(ast.NodeVisitor):
    """Status writes in one module: `.status =`, setattr, `status=` in Message()/update/create, bulk_update/save fields.

    A write is a message's when its object is (Message, its manager, `.messages`, a variable annotated or assigned
    as one) or its value names Message.Status; not when either is another model's; else when the module imports Message.
    """

    MODELS = frozenset(model.__name__ for model in apps.get_models())
    STATUSES = frozenset(Status)

    def __init__(self, tree: ast.Module):
        self.found: list[tuple[str, int, str]] = []  # (function, line, source)
        self.message_names = {
            alias.asname or alias.name
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("models")
            for alias in node.names if alias.name == "Message"
        } | {node.name for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Message"}
        self.status_names = {"MessageStatus"} | {
            target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and self._is_message_status(node.value)
            for target in node.targets if isinstance(target, ast.Name)
        }
        self.scopes: list[dict[str, str]] = [{}]
        self.function = "<module>"

    # What an expression is.

    def _is_message_status(self, node) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "Status"
                and isinstance(node.value, ast.Name) and node.value.id in self.message_names)

    def _model_of(self, node) -> str | None:
        """The model class an expression's value comes from: Message.objects…, Client(…), list(rows), a variable."""
        while True:
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id in {"list", "tuple", "sorted", "set"} and node.args:
                    node = node.args[0]
                else:
                    node = node.func
            elif isinstance(node, ast.Attribute):
                if node.attr in {"message", "messages", "message_set"}:
                    return "Message"
                node = node.value
            elif isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Name):
                if node.id in self.message_names:
                    return "Message"
                if node.id in self.MODELS:
                    return node.id
                return next((scope[node.id] for scope in reversed(self.scopes) if node.id in scope), None)
            else:
                return None

    def _is_message(self, node) -> bool | None:
        model = self._model_of(node)
        return None if model is None else model == "Message"

    def _value(self, node) -> str | None:
        """'message' if the value names Message.Status, 'other' if another model's status, None if it cannot tell."""
        if node is None:
            return None
        names = list(ast.walk(node))
        if any(self._is_message_status(n) or (isinstance(n, ast.Name) and n.id in self.status_names) for n in names):
            return "message"
        if any(isinstance(n, ast.Attribute) and n.attr == "Status" for n in names):
            return "other"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value not in self.STATUSES:
            return "other"
        return None

    def _check(self, node, *, obj, value=None) -> None:
        is_message, kind = self._is_message(obj), self._value(value)
        undecided = is_message is None and kind is None
        if is_message or kind == "message" or (undecided and self.message_names):
            self.found.append((self.function, node.lineno, ast.unparse(node)[:120]))

    # Scopes: what each variable holds, from annotations and assignments.

    def _annotation_model(self, annotation) -> str | None:
        names = [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)] if annotation is not None else []
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            names = [annotation.value]
        if any(name in self.message_names for name in names):
            return "Message"
        return next((name for name in names if name in self.MODELS), None)

    def visit_FunctionDef(self, node):
        scope = {}
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            model = self._annotation_model(arg.annotation)
            if model:
                scope[arg.arg] = model
        self.scopes.append(scope)
        for inner in ast.walk(node):
            if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
                model = self._model_of(inner.value)
                if model:
                    scope[inner.targets[0].id] = model
            elif isinstance(inner, ast.For) and isinstance(inner.target, ast.Name):
                model = self._model_of(inner.iter)
                if model:
                    scope[inner.target.id] = model
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.scopes.pop()
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    # The writes.

    def _assigned(self, statement, target, value):
        if isinstance(target, ast.Tuple | ast.List):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts) \
                else [None] * len(target.elts)
            for element, element_value in zip(target.elts, values, strict=True):
                self._assigned(statement, element, element_value)
        elif isinstance(target, ast.Attribute) and target.attr == "status":
            self._check(statement, obj=target.value, value=value)

    def visit_Assign(self, node):
        for target in node.targets:
            self._assigned(node, target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._assigned(node, node.target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._assigned(node, node.target, None)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        status_values = [keywords["status"]] if "status" in keywords else []
        for keyword in node.keywords:  # **{"status": …}, defaults={"status": …}
            if (keyword.arg in {None, "defaults", "create_defaults"}) and isinstance(keyword.value, ast.Dict):
                status_values += [v for k, v in zip(keyword.value.keys, keyword.value.values, strict=True)
                                  if isinstance(k, ast.Constant) and k.value == "status"]
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in self.message_names and status_values:  # Message(status=…)
            self.found.append((self.function, node.lineno, ast.unparse(node)[:120]))
        elif name in {"update", "create", "get_or_create", "update_or_create"} and isinstance(func, ast.Attribute):
            for value in status_values:
                self._check(node, obj=func.value, value=value)
        elif name in {"bulk_update", "save"} and isinstance(func, ast.Attribute):
            fields = keywords.get("update_fields" if name == "save" else "fields")
            if name == "bulk_update" and fields is None and len(node.args) > 1:
                fields = node.args[1]
            if fields is not None and any(isinstance(n, ast.Constant) and n.value == "status"
                                          for n in ast.walk(fields)):
                self._check(node, obj=func.value)
        elif name == "setattr" and len(node.args) == 3 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value == "status":
            self._check(node, obj=node.args[0], value=node.args[2])
        self.generic_visit(node)


def status_writes(source: str, filename: str = "<sample>") -> list[tuple[str, int, str]]:
    tree = ast.parse(source, filename)
    scanner = StatusWrites(tree)
    scanner.visit(tree)
    return scanner.found


def project_modules() -> list[Path]:
    return sorted(
        path for path in ROOT.rglob("*.py")
        if not NOT_SCANNED.intersection(path.relative_to(ROOT).parts[:-1])
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    )


def test_no_module_but_transitions_writes_a_message_status():
    modules = project_modules()
    scanned = {str(path.relative_to(ROOT)) for path in modules}
    # The scan reaches the outbox and the apps that write other models' statuses, not an empty directory.
    assert {"messaging/services.py", "messaging/sending.py", "messaging/webhooks.py", "messaging/transitions.py",
            "outreach/appointments.py", "outreach/campaign_runs.py", "outreach/campaigns.py"} <= scanned
    writes = [
        f"{path.relative_to(ROOT)}:{line} in {function}: {code}"
        for path in modules if path != ROOT / "messaging" / "transitions.py"
        for function, line, code in status_writes(path.read_text(), str(path))
    ]
    assert writes == [], "a message's status changes only through messaging.transitions"


def test_the_scanner_sees_the_writes_in_the_transitions_module_itself():
    writes = status_writes((ROOT / "messaging" / "transitions.py").read_text())
    assert {function for function, _line, _code in writes} == {"begin", "move", "save", "save_all", "move_rows"}


# The scanner on small samples: what it must flag, and what it must not.

MUST_FLAG = {
    "assignment": """
        def f(message):
            message.status = Message.Status.SENT
    """,
    "tuple assignment": """
        def f(message, now):
            message.status, message.sent_at = Message.Status.SENT, now
    """,
    "a variable that holds a message": """
        def f(pk, new_status):
            message = Message.objects.select_for_update().filter(pk=pk).first()
            message.status = new_status
    """,
    "a loop over messages": """
        def f(ids):
            for message in list(Message.objects.filter(pk__in=ids)):
                message.status = "sent"
    """,
    "an annotated parameter": """
        def f(message: Message, to: str):
            message.status = to
    """,
    "queryset update": """
        Message.objects.filter(pk__in=[1]).update(status=Message.Status.PENDING)
    """,
    "queryset update, plain string": """
        Message.objects.filter(pk=1).update(status="sent", updated_at=None)
    """,
    "a variable queryset": """
        def f(held):
            return held.update(status=Message.Status.EXPIRED)
    """,
    "related manager, no import": """
        from appointments.models import Appointment
        def f(appointment: Appointment):
            appointment.messages.filter(status="held_no_credit").update(status="expired")
    """,
    "constructor": """
        Message(body="x", status=Message.Status.BLOCKED if True else Message.Status.PENDING)
    """,
    "aliased class": """
        from .models import Message as Outbox
        Outbox.objects.create(dedupe_key="k", status="pending")
    """,
    "aliased Status": """
        S = Message.Status
        def f(rows):
            rows.update(status=S.FAILED)
    """,
    "unpacked dict": """
        def f(rows):
            rows.update(**{"status": Message.Status.FAILED})
    """,
    "defaults": """
        Message.objects.update_or_create(dedupe_key="k", defaults={"status": "pending"})
    """,
    "bulk_update": """
        def f(messages):
            Message.objects.bulk_update(messages, ["status", "reason"])
    """,
    "save with update_fields": """
        def f(pk):
            locked = Message.objects.get(pk=pk)
            locked.save(update_fields=["status", "error_code"])
    """,
    "setattr": """
        def f(message):
            setattr(message, "status", "sent")
    """,
}
MUST_NOT_FLAG = {
    "another model's variable": """
        from appointments.models import Appointment
        def f(appointment: Appointment, status: str):
            Appointment.objects.filter(pk=appointment.pk).update(status=status)
            appointment.status = status
    """,
    "another model's Status": """
        from campaigns.models import Campaign
        Campaign.objects.filter(pk=1, status=Campaign.Status.DRAFT).update(status=Campaign.Status.RUNNING)
        def f(updates):
            updates.update(status=Campaign.Status.DONE)
    """,
    "not a message status": """
        def f(request):
            request.update(status="done")
    """,
    "reads": """
        def f(message):
            rows = Message.objects.filter(status=Message.Status.PENDING).exclude(status__in=["sent"])
            return message.status == Message.Status.SENT and rows
    """,
    "other calls": """
        def f(view):
            return view(status=403)
    """,
    "its own status, no import": """
        class LinkError(Exception):
            def __init__(self, status):
                self.status = status
    """,
    "through transitions": """
        from messaging import transitions
        def f(message, rows):
            transitions.move(message, Message.Status.SENT)
            transitions.move_rows(rows, Message.Status.HELD_NO_CREDIT, Message.Status.PENDING, updated_at=None)
    """,
}


def sample(body: str, *, imports_message: bool = True) -> str:
    return ("from messaging.models import Message\n" if imports_message else "") + textwrap.dedent(body)


@pytest.mark.parametrize(("name", "body"), MUST_FLAG.items(), ids=MUST_FLAG.keys())
def test_the_scanner_flags(name, body):
    assert status_writes(sample(body, imports_message=not name.endswith("no import"))) != []


@pytest.mark.parametrize(("name", "body"), MUST_NOT_FLAG.items(), ids=MUST_NOT_FLAG.keys())
def test_the_scanner_lets_pass(name, body):
    assert status_writes(sample(body, imports_message=not name.endswith("no import"))) == []
