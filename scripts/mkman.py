#!/usr/bin/env python3
"""Write a section-3 man page for one ramdev header, from the header itself.

The page is the header's contract in man(7) form, so it cannot drift from it:
  NAME         the page name and the header's first sentence;
  SYNOPSIS     the #include and every exported prototype (RAMDEV_EXPORT,
               and the header's static inline functions);
  DESCRIPTION  the header's opening comment, then, in header order, each
               `/** */` doc block with the declarations that follow it
               (functions, structs, enums, typedefs): arguments (@name:)
               as tagged paragraphs, Returns: and Context: under their
               own tags;
  SEE ALSO     the other pages.

Usage: mkman.py HEADER PAGE VERSION OUTPUT [SUMMARY]
(SUMMARY: the NAME line's text; default: the header's first sentence)
"""
import os
import re
import sys

PAGES = ["ramdev_access", "ramdev_as", "ramdev_dma", "ramdev_virtq",
         "ramdev_blk"]
TAG = re.compile(r"^(@[\w/@.]+|Returns(?: \([^)]*\))?|Context|Errors|"
                 r"Threads|Locking)\s*:\s*(.*)$")


def roff(text):
    """Escape one line of text for roff."""
    text = text.replace("\\", "\\e")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def code(lines):
    out = [".PP", ".nf", ".ft CR"]
    out += [roff(l.replace("\t", "        ")) for l in lines]
    out += [".ft", ".fi"]
    return out


def comment_lines(block):
    """The text of a /* */ or /** */ comment, one string per line."""
    body = re.sub(r"^/\*\*?", "", block.strip())
    body = re.sub(r"\*/$", "", body)
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\* ?", "", line.rstrip())
        lines.append(line.strip() if not line.startswith("  ") else line)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def prose(lines):
    """Comment lines to roff: paragraphs, tagged paragraphs, lists."""
    out, para = [], []

    def flush():
        if para:
            out.extend(roff(p) for p in para)
            para.clear()

    for line in lines:
        s = line.strip()
        m = TAG.match(s)
        if not s:
            flush()
            out.append(".PP")
        elif m:
            flush()
            out += [".TP", ".B " + roff(m.group(1))]
            if m.group(2):
                para.append(m.group(2))
        elif s.startswith(("- ", "+ ")):
            flush()
            out += [".IP \\(bu 2"]
            para.append(s[2:])
        else:
            para.append(s)
    flush()
    return out


def declarations(text, pos):
    """Declarations after a doc block: up to a blank line, a comment or a
    preprocessor line.  Bodies of static inline functions are left out."""
    lines, depth, skipping = [], 0, False
    for line in text[pos:].split("\n")[1:]:
        s = line.strip()
        if depth == 0 and (not s or s.startswith(("/*", "#", "//"))):
            if lines:
                break
            if not s:
                continue
            break
        if depth == 0 and line.startswith("static inline"):
            skipping = True
            lines.append(line)
            if "{" in line:
                depth += line.count("{") - line.count("}")
                lines[-1] = line.split("{")[0].rstrip() + ";"
            continue
        if skipping:
            if depth == 0 and s == "{":
                depth = 1
                lines[-1] += ";"
                continue
            if depth == 0:
                lines.append(line)
                continue
            depth += line.count("{") - line.count("}")
            if depth == 0:
                skipping = False
            continue
        lines.append(line)
        depth += line.count("{") - line.count("}")
    # One line per exported prototype: the header's continuation indent
    # was for the RAMDEV_EXPORT prefix.
    out, proto = [], None
    for l in lines:
        if proto is None and l.startswith("RAMDEV_EXPORT"):
            proto = ""
        if proto is not None:
            proto += " " + l.strip()
            if ";" in l:
                out.append(re.sub(r"\s+", " ", proto.replace(
                    "RAMDEV_EXPORT", "")).strip().replace("( ", "("))
                proto = None
        else:
            out.append(l)
    return out


def exported(text):
    """Every exported or static inline prototype, for the SYNOPSIS."""
    protos = []
    for m in re.finditer(r"^(RAMDEV_EXPORT|static inline)\b([^;{]*)", text,
                         re.M):
        decl = re.sub(r"\s+", " ", (m.group(1) + m.group(2)).strip())
        decl = decl.replace("RAMDEV_EXPORT ", "")
        name = re.search(r"(\w+)\s*\(", decl)
        if name and name.group(1).startswith("ramdev_") and \
           not name.group(1).startswith(("ramdev_raw_", "ramdev_size_ok")):
            protos.append(decl + ";")
    return protos


def main(argv):
    header, page, version, output = argv[1:5]
    text = open(header, encoding="utf-8").read()
    base = os.path.basename(header)
    blocks = list(re.finditer(r"/\*\*.*?\*/", text, re.S))
    first = re.search(r"/\*(?!\*).*?\*/", text[text.index("*/") + 2:], re.S)
    intro = comment_lines(first.group(0)) if first else []
    first_para = []
    for line in intro:
        if not line.strip():
            break
        first_para.append(line.strip())
    summary = " ".join(first_para).split(". ")[0].rstrip(".")
    summary = re.sub(r"^ramdev [\w -]+?: ", "", summary)
    if len(argv) > 5:
        summary = argv[5]

    out = [f'.TH {page.upper()} 3 "" "ramdev {version}" '
           '"ramdev Programmer\'s Manual"',
           ".SH NAME", f"{page} \\- {roff(summary)}",
           ".SH SYNOPSIS", ".nf", f".B #include <ramdev/{base}>", ".PP"]
    for p in exported(text):
        out.append(roff(p))
    out += [".fi", ".PP",
            "Link with \\fI$(pkg\\-config \\-\\-libs ramdev)\\fP.",
            ".SH DESCRIPTION"]
    out += prose(intro)
    for b in blocks:
        lines = comment_lines(b.group(0))
        if lines and re.match(r"[\w ]+: internal\b", lines[0]):
            continue
        decls = declarations(text, b.end())
        name = re.match(r"(struct |enum )?[\w/ _]+?(?= - |:|$)",
                        lines[0].strip()) if lines else None
        title = name.group(0).strip() if name and " - " in lines[0] else None
        if title:
            out.append(".SS " + roff(title))
            lines[0] = lines[0].split(" - ", 1)[1]
            lines[0] = lines[0][:1].upper() + lines[0][1:]
        else:
            out.append(".PP")
        if decls:
            out += code(decls)
        out += [".PP"] + prose(lines)
    out += [".SH SEE ALSO",
            ", ".join(f".BR {p} (3)" if False else f"\\fB{p}\\fP(3)"
                      for p in PAGES if p != page) + ", \\fBramdev\\fP(1)",
            ".PP",
            f"The header <ramdev/{base}>, which this page is generated from."]
    # roff: no blank lines, no doubled paragraph macros.
    clean = []
    for line in out:
        if line == ".PP" and clean and clean[-1] in (".PP", ".TP", ".SH DESCRIPTION") \
           or line == ".PP" and clean and clean[-1].startswith((".SS", ".SH")):
            continue
        if line.strip() == "":
            continue
        clean.append(line)
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(clean) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
