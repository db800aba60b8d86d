"""The grader (tinylearn.exercises and ``tinylearn check``): every lesson's reference solutions pass,
wrong answers fail with a message, the template grades as missing, the command's exit codes."""

from __future__ import annotations

import numpy as np
import pytest

from tinylearn import cli, exercises
from tinylearn.exercises import ExerciseFailure, expect_close, expect_gradcheck, expect_shape

LESSONS = sorted({e.lesson for e in exercises.exercises()}, key=lambda s: tuple(map(int, s.split("."))))


def test_lesson_1_1_has_exercises():
    assert [e.name for e in exercises.exercises("1.1")] == ["my_mse_grad", "train_step"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_reference_solutions_pass(lesson):
    results = exercises.grade(lesson, reference=True)
    assert results
    assert all(r.passed for r in results), exercises.report(results)


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_function_that_raises_is_an_error(lesson):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    results = exercises.grade(lesson, {ex.name: broken for ex in exercises.exercises(lesson)})
    for result in results:
        assert result.status == "error", result
        assert "ZeroDivisionError: oops" in result.message


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_template_grades_as_missing(lesson):
    namespace: dict = {}
    exec(compile(exercises.template(lesson), f"exercises_{lesson}.py", "exec"), namespace)
    results = exercises.grade(lesson, namespace)
    assert [r.status for r in results] == ["missing"] * len(results)
    assert all(r.exercise.prompt in r.message for r in results)


def test_absent_function_is_missing_and_not_callable_fails():
    (a, b) = exercises.grade("1.1", {"train_step": 3})
    assert a.status == "missing" and "my_mse_grad(w, b, x, y)" in a.message
    assert b.status == "failed" and "must be a function" in b.message


def test_wrong_answer_names_the_input():
    def my_mse_grad(w, b, x, y):  # the factor 2 forgotten
        r = y - (w * x + b)
        return -np.mean(r * x), -np.mean(r)

    (result,) = exercises.grade("1.1", {"my_mse_grad": my_mse_grad})[:1]
    assert result.status == "failed"
    assert "dL/dw at w=0.5, b=0.0" in result.message and "expected" in result.message


def test_check_by_function_prints_and_returns(capsys):
    from tinylearn.viz.lesson_1_1 import mse_grad

    def my_mse_grad(w, b, x, y):
        return mse_grad(w, b, x, y)

    assert exercises.check(my_mse_grad) is True
    assert "✓ 1.1.4 my_mse_grad: passed" in capsys.readouterr().out

    def train_step(w, b, x, y, lr):
        return w, b

    assert exercises.check(train_step) is False
    assert "✗ 1.1.6 train_step: failed" in capsys.readouterr().out


def test_check_lesson_reads_the_callers_globals(capsys):
    assert exercises.check("1.1") is False  # this module defines neither function
    assert "0/2 exercises passed" in capsys.readouterr().out


def test_check_unknown_names_and_lessons():
    def not_an_exercise():
        pass

    with pytest.raises(ValueError, match="no exercise is called 'not_an_exercise'"):
        exercises.check(not_an_exercise)
    with pytest.raises(ValueError, match="has no exercises"):
        exercises.grade("9.9")
    with pytest.raises(ValueError, match=r"looks like '1\.3'"):
        exercises.exercises("one")


def test_declaration_is_validated():
    with pytest.raises(ValueError, match="section"):
        exercises.exercise("1.1", "f", reference=abs, signature="f(x)", prompt="p")
    with pytest.raises(ValueError, match="identifier"):
        exercises.exercise("1.1.1", "f-g", reference=abs, signature="f-g(x)", prompt="p")
    with pytest.raises(ValueError, match="signature"):
        exercises.exercise("1.1.1", "f", reference=abs, signature="g(x)", prompt="p")


def test_expect_helpers_messages():
    expect_close([1.0, 2.0], np.array([1.0, 2.0]), "x")
    with pytest.raises(ExerciseFailure, match=r"x: wrong value at index \(1,\): expected 2, got 2\.5"):
        expect_close([1.0, 2.5], [1.0, 2.0], "x")
    with pytest.raises(ExerciseFailure, match=r"expected shape \(2,\), got shape \(3,\)"):
        expect_close([1.0, 2.0, 3.0], [1.0, 2.0], "x")
    with pytest.raises(ExerciseFailure, match="returned None"):
        expect_close(None, [1.0], "x")
    with pytest.raises(ExerciseFailure, match="got nan"):
        expect_close([np.nan], [1.0], "x")
    with pytest.raises(ExerciseFailure, match=r"expected shape \(2, 2\), got \(2,\)"):
        expect_shape(np.zeros(2), (2, 2), "x")


def test_expect_gradcheck_reports_a_wrong_backward():
    import tinylearn as tl

    class BadSquare(tl.autograd.Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * self.saved(0)  # should be 2x

    x = tl.tensor(np.array([0.5, -1.0, 2.0]), dtype=tl.float64, requires_grad=True)
    expect_gradcheck(lambda t: t * t, (x,), "square")
    with pytest.raises(ExerciseFailure, match="disagrees with finite differences"):
        expect_gradcheck(BadSquare.apply, (x,), "square")


def test_cli_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "1.1", "--reference"]) == 0
    assert "2/2 exercises passed" in capsys.readouterr().out
    assert cli.main(["check", "1.1"]) == 2  # no exercises_1_1.py here
    assert "exercises_1_1.py not found" in capsys.readouterr().err
    assert cli.main(["check", "1.1", "--template"]) == 0
    (tmp_path / "exercises_1_1.py").write_text(capsys.readouterr().out)
    assert cli.main(["check", "1.1"]) == 1
    assert "0/2 exercises passed" in capsys.readouterr().out
    (tmp_path / "mine.py").write_text(
        "from tinylearn.viz.lesson_1_1 import mse_grad as my_mse_grad\n"
        "def train_step(w, b, x, y, lr):\n"
        "    gw, gb = my_mse_grad(w, b, x, y)\n"
        "    return w - lr * gw, b - lr * gb\n"
    )
    assert cli.main(["check", "1.1", "mine.py"]) == 0
    assert "2/2 exercises passed" in capsys.readouterr().out
    (tmp_path / "broken.py").write_text("def f(:\n")
    assert cli.main(["check", "1.1", "broken.py"]) == 1
    assert "SyntaxError" in capsys.readouterr().err
    assert cli.main(["check", "9.9", "--reference"]) == 2
    assert cli.main(["check", "1.1", "--list"]) == 0
    assert "train_step(w, b, x, y, lr)" in capsys.readouterr().out
