"""The project's documentation as one text: dense, ordinary Markdown for rendering tests and benchmarks."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def project_documentation() -> str:
    """README.md then every page of docs/, in name order."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n\n".join(page.read_text() for page in pages)
