"""The FizzBuzz dry run's material (PRODUCT.md §7, vermas.md §11): implementations and the 8 criteria."""

from __future__ import annotations

CORRECT = '''"""FizzBuzz: 1 to 100, Fizz for multiples of 3, Buzz for 5, FizzBuzz for both."""


def fizzbuzz(n: int) -> str:
    """The word for ``n``."""
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return str(n)


def main() -> None:
    """Print the sequence, one per line."""
    for i in range(1, 101):
        print(fizzbuzz(i))


if __name__ == "__main__":
    main()
'''

# Checks 3 before 15: multiples of 15 print "Fizz" (AC-2 and AC-8 fail).
WRONG = CORRECT.replace('''    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
''', '''    if n % 3 == 0:
        return "Fizz"
    if n % 15 == 0:
        return "FizzBuzz"
''')

RUN = "python fizzbuzz.py"

# id, description, command, hint
CRITERIA = [
    ("AC-1", "prints exactly 100 lines", f'test "$({RUN} | wc -l)" -eq 100', ""),
    ("AC-2", "line 15 is FizzBuzz", f"{RUN} | sed -n 15p | grep -qx FizzBuzz", "check 15 first"),
    ("AC-3", "line 9 is Fizz", f"{RUN} | sed -n 9p | grep -qx Fizz", ""),
    ("AC-4", "line 10 is Buzz", f"{RUN} | sed -n 10p | grep -qx Buzz", ""),
    ("AC-5", "line 1 is 1", f"{RUN} | sed -n 1p | grep -qx 1", ""),
    ("AC-6", "lint: at most 2 ruff findings", "test -f fizzbuzz.py && ruff check --quiet --output-format concise "
                                               "fizzbuzz.py | awk 'END { exit (NR > 2) }'", "fix the lint findings"),
    ("AC-7", "importing prints nothing", "out=$(python -c 'import fizzbuzz') && test -z \"$out\"",
     "guard main() with if __name__ == '__main__'"),
    ("AC-8", "line 30 is FizzBuzz", f"{RUN} | sed -n 30p | grep -qx FizzBuzz", "check 15 first"),
]


def heredoc(text: str) -> str:
    return f"cat > fizzbuzz.py <<'EOF'\n{text}EOF\n"


def bead_description(*, wrong: str | None = WRONG) -> str:
    """A feature bead a human (or Claude) can read; the sim runs its ```sim block (```sim-wrong under the fault)."""
    text = ("Create a FizzBuzz app in Python: print 1 to 100, one per line; Fizz for multiples of 3, Buzz for "
            "multiples of 5, FizzBuzz for multiples of both; importable as a module (a main guard).\n\n"
            f"```sim\n{heredoc(CORRECT)}{RUN} | sed -n 15p\n```\n")
    if wrong is not None:
        text += f"\n```sim-wrong\n{heredoc(wrong)}```\n"
    return text
