"""canvas.zip (QTI 1.2 for Canvas) and qti21.zip (QTI 2.1): the packages' structure.

The published IMS schemas (XSD) are not on this machine and no package here ships them, so the XML
is checked by the small independent checker below: well-formed, the IMS namespaces, the elements
and attributes the QTI specifications require (identifiers, cardinality, baseType, a float
responseDeclaration per textEntryInteraction, `equal` with toleranceMode="absolute" and a tolerance),
every file the manifest names present in the zip and every picture a question shows in it.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
N = 3
QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
CC = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    here = tmp_path_factory.mktemp("lms")
    out = {}
    for lms in ("canvas", "qti21"):
        out[lms] = here / lms
        result = run_cli("exam", EXAM, "--variants", N, "--seed", 5, "--out", out[lms], "--lms", lms)
        assert result.returncode == 0, result.stderr
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


def answers(folder: Path) -> list[list[str]]:
    rows = (folder / "keys.csv").read_text().splitlines()[1:]
    return [row.split(",")[1:] for row in rows]


def test_qti21_package(built):
    files = members(built["qti21"] / "qti21.zip")
    manifest = ET.fromstring(files["imsmanifest.xml"])
    assert manifest.tag == CP + "manifest" and manifest.get("identifier")
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert len(resources) == N
    keys = answers(built["qti21"])
    for k, resource in enumerate(resources, start=1):
        assert resource.get("type") == "imsqti_item_xmlv2p1"
        hrefs = [f.get("href") for f in resource.findall(CP + "file")]
        assert resource.get("href") in hrefs and all(h in files for h in hrefs)
        item = ET.fromstring(files[resource.get("href")])
        assert item.tag == QTI21 + "assessmentItem"
        assert {"identifier", "title", "adaptive", "timeDependent"} <= set(item.attrib)
        declared = {}
        for d in item.findall(QTI21 + "responseDeclaration"):
            assert d.get("cardinality") == "single" and d.get("baseType") == "float"
            declared[d.get("identifier")] = d.find(f"{QTI21}correctResponse/{QTI21}value").text
        interactions = item.iter(QTI21 + "textEntryInteraction")
        assert [i.get("responseIdentifier") for i in interactions] == list(declared)
        assert list(declared.values()) == keys[k - 1]                   # the keys' numbers, as shown
        outcomes = {o.get("identifier"): o.get("baseType") for o in item.findall(QTI21 + "outcomeDeclaration")}
        assert outcomes == {"SCORE": "float", "MAXSCORE": "float"}
        conditions = item.findall(f"{QTI21}responseProcessing/{QTI21}responseCondition")
        assert len(conditions) == len(declared)
        for c, rid in zip(conditions, declared):
            equal = c.find(f"{QTI21}responseIf/{QTI21}equal")
            assert equal.get("toleranceMode") == "absolute"
            low, high = equal.get("tolerance").split()
            assert float(low) == float(high) in (0.0005, 0.0002)
            assert [(e.tag, e.get("identifier")) for e in equal] == [(QTI21 + "variable", rid), (QTI21 + "correct", rid)]
            assert c.find(f"{QTI21}responseIf/{QTI21}setOutcomeValue").get("identifier") == "SCORE"
        images = [i.get("src") for i in item.iter(QTI21 + "img")]
        assert images == [f"../images/diagram-{k:03d}.png"]
        assert f"images/diagram-{k:03d}.png" in files and f"images/diagram-{k:03d}.png" in hrefs
        assert all(i.get("alt") for i in item.iter(QTI21 + "img"))


def test_canvas_package(built):
    files = members(built["canvas"] / "canvas.zip")
    manifest = ET.fromstring(files["imsmanifest.xml"])
    assert manifest.tag == CC + "manifest"
    quizzes = [r for r in manifest.iter(CC + "resource") if r.get("type") == "imsqti_xmlv1p2"]
    assert len(quizzes) == N
    keys = answers(built["canvas"])
    for k, resource in enumerate(quizzes, start=1):
        href = resource.find(CC + "file").get("href")
        root = ET.fromstring(files[href])
        assert root.tag == QTI12 + "questestinterop"
        items = list(root.iter(QTI12 + "item"))
        types = [i.find(f".//{QTI12}qtimetadatafield[{QTI12}fieldlabel='question_type']/{QTI12}fieldentry").text
                 for i in items]
        assert types == ["text_only_question"] + ["numerical_question"] * 6
        problem = items[0].find(f".//{QTI12}mattext").text
        src = re.search(r'src="([^"]+)"', problem).group(1)
        assert src == f"$IMS-CC-FILEBASE$/images/diagram-{k:03d}.png"
        assert src.replace("$IMS-CC-FILEBASE$", "web_resources") in files
        shown = []
        for item in items[1:]:
            assert item.find(f".//{QTI12}render_fib").get("fibtype") == "Decimal"
            exact = item.find(f".//{QTI12}varequal").text
            low = float(item.find(f".//{QTI12}vargte").text)
            high = float(item.find(f".//{QTI12}varlte").text)
            assert low < float(exact) < high and high - low == pytest.approx(
                2 * (0.0002 if item.get("title") == "dE_total/dw1" else 0.0005), abs=1e-12)
            shown.append(exact)
        assert shown == keys[k - 1]


def test_zips_are_byte_identical_for_the_same_seed(built, tmp_path):
    for lms in ("canvas", "qti21"):
        result = run_cli("exam", EXAM, "--variants", N, "--seed", 5, "--out", tmp_path / lms, "--lms", lms)
        assert result.returncode == 0
        assert (tmp_path / lms / f"{lms}.zip").read_bytes() == (built[lms] / f"{lms}.zip").read_bytes()
