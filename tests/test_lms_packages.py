"""canvas.zip (QTI 1.2 for Canvas) and qti21.zip (QTI 2.1): validated against the published IMS schemas.

Every XML file of both packages is validated with lxml against the IMS XSDs kept in tests/data/xsd/
(sources and licences in tests/data/README.md): QTI 2.1 items and the assessmentTest against
imsqti_v2p1.xsd, QTI 1.2 questestinterop against ims_qtiasiv1p2.xsd, both manifests against IMS
Content Packaging 1.1 (imscp_v1p1.xsd; Canvas's manifest namespace read as CP 1.1's, as Canvas's own
exports map it). A planted error in each kind of file must fail. The structural checks below add what a schema cannot
say: the keys' numbers, the tolerances, every file the manifest names present in the zip and every
picture a question shows in it.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from helpers import ROOT, run_cli

EXAM = ROOT / "examples" / "exam.toml"
N = 3
QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
CC = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
XSD = Path(__file__).parent / "data" / "xsd"
SCHEMAS = {"qti21": "qti-sdk/qtiv2p1/imsqti_v2p1.xsd", "imscp": "qti-sdk/imscp_v1p1.xsd",
           "qti12": "moodle-cc/schemas/domainProfile_4/ims_qtiasiv1p2.xsd"}
CANVAS_CP = b"http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"     # the namespace Canvas's manifests use
IMSCP = b"http://www.imsglobal.org/xsd/imscp_v1p1"


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
    test_resource, *resources = manifest.findall(f"{CP}resources/{CP}resource")   # the test first, then the items
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


def test_qti21_package_is_a_test_drawing_one_variant_per_candidate(built):
    """Items alone import as a pool; the assessmentTest makes the package a test a student can take."""
    files = members(built["qti21"] / "qti21.zip")
    manifest = ET.fromstring(files["imsmanifest.xml"])
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    tests = [r for r in resources if r.get("type") == "imsqti_test_xmlv2p1"]
    assert len(tests) == 1 and resources[0] is tests[0]
    href = tests[0].get("href")
    assert [f.get("href") for f in tests[0].findall(CP + "file")] == [href] and href in files
    items = {r.get("identifier"): r.get("href") for r in resources if r.get("type") == "imsqti_item_xmlv2p1"}
    assert len(items) == N
    assert [d.get("identifierref") for d in tests[0].findall(CP + "dependency")] == list(items)

    root = ET.fromstring(files[href])
    assert root.tag == QTI21 + "assessmentTest" and root.get("identifier") and root.get("title")
    outcomes = {o.get("identifier"): o for o in root.findall(QTI21 + "outcomeDeclaration")}
    assert set(outcomes) == {"SCORE", "MAXSCORE"}
    item_max = {float(ET.fromstring(files[h]).find(
        f"{QTI21}outcomeDeclaration[@identifier='MAXSCORE']/{QTI21}defaultValue/{QTI21}value").text)
        for h in items.values()}
    assert item_max == {6.0}                            # every variant weighs the same: 6 parts of 1 point
    assert float(outcomes["MAXSCORE"].find(f"{QTI21}defaultValue/{QTI21}value").text) == 6.0
    parts = root.findall(QTI21 + "testPart")
    assert len(parts) == 1
    sections = parts[0].findall(QTI21 + "assessmentSection")
    assert len(sections) == 1 and sections[0].get("visible") == "true"
    assert sections[0].find(QTI21 + "selection").get("select") == "1"
    refs = sections[0].findall(QTI21 + "assessmentItemRef")
    base = href.rpartition("/")[0]
    assert [(r.get("identifier"), str(Path(base) / r.get("href"))) for r in refs] == list(items.items())
    for r in refs:                                      # each ref names its item by the item's own identifier
        assert ET.fromstring(files[items[r.get("identifier")]]).get("identifier") == r.get("identifier")
    rules = root.findall(f"{QTI21}outcomeProcessing/*")
    assert len(rules) == 1 and rules[0].tag == QTI21 + "setOutcomeValue" and rules[0].get("identifier") == "SCORE"
    summed = rules[0].find(f"{QTI21}sum/{QTI21}testVariables")
    assert summed is not None and summed.get("variableIdentifier") == "SCORE"


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


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    parser = etree.XMLParser(no_network=True)
    return {name: etree.XMLSchema(etree.parse(str(XSD / path), parser)) for name, path in SCHEMAS.items()}


def schema_errors(schemas, lms: str, name: str, xml: bytes) -> list[str]:
    """The schema's complaints about one member of a package (empty when it is valid)."""
    if name == "imsmanifest.xml":
        schema = schemas["imscp"]
        if lms == "canvas":
            assert CANVAS_CP in xml
            xml = xml.replace(CANVAS_CP, IMSCP)      # Canvas maps its manifest namespace to imscp_v1p1.xsd
    else:
        schema = schemas["qti21" if lms == "qti21" else "qti12"]
    doc = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    if schema.validate(doc):
        return []
    return [f"{name}:{e.line}: {e.message}" for e in schema.error_log]


def xml_members(path: Path) -> dict[str, bytes]:
    return {name: data for name, data in members(path).items() if name.endswith(".xml")}


def test_the_schemas_resolve_every_import_locally():
    """No schemaLocation points off this machine: lxml must never need the network to load them."""
    seen = 0
    for xsd in XSD.rglob("*.xsd"):
        tree = etree.parse(str(xsd))
        for ref in tree.iter("{http://www.w3.org/2001/XMLSchema}import", "{http://www.w3.org/2001/XMLSchema}include"):
            location = ref.get("schemaLocation")
            if location is None and ref.tag.endswith("import"):
                continue                                # <xs:import/> names a namespace and loads nothing
            assert location and "://" not in location, (xsd, location)
            assert (xsd.parent / location).resolve().is_file(), (xsd, location)
            seen += 1
    assert seen >= 30                                   # MathML alone includes 27 files


def test_every_xml_file_of_both_packages_is_valid_against_the_ims_schemas(built, schemas):
    for lms in ("canvas", "qti21"):
        files = xml_members(built[lms] / f"{lms}.zip")
        assert len(files) == N + (2 if lms == "qti21" else 1)   # the manifest, qti21's test, one file per variant
        problems = [p for name, xml in files.items() for p in schema_errors(schemas, lms, name, xml)]
        assert problems == []


def test_significant_figures_and_a_roster_give_valid_packages_too(tmp_path, schemas):
    spec = tmp_path / "exam.toml"
    spec.write_text(EXAM.read_text().replace("[exam]\n", '[exam]\nanswer_format = "significant"\n')
                    .replace("decimals = 4                # answers to 4 decimal places", "decimals = 3")
                    .replace('tolerance = { default = 0.0005, "dE/dw1" = 0.0002 }   # absolute', ""))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n1001,Jürgen Müller & Co\n1002,<Ada> \"Lovelace\"\n")
    for lms in ("canvas", "qti21"):
        out = tmp_path / lms
        result = run_cli("exam", spec, "--variants", 2, "--seed", 11, "--out", out, "--no-pdf", "--lms", lms,
                         "--students", roster)
        assert result.returncode == 0, result.stderr
        files = xml_members(out / f"{lms}.zip")
        assert len(files) == (4 if lms == "qti21" else 3)
        assert [p for name, xml in files.items() for p in schema_errors(schemas, lms, name, xml)] == []
        if lms == "canvas":
            assert "Jürgen Müller &amp; Co" in files["variant-001/variant-001.xml"].decode()


PLANTED = [                                             # (package, member, text, replacement, what the schema says)
    ("qti21", "items/variant-001.xml", b'baseType="float"', b'baseType="decimal"', "baseType"),
    ("qti21", "items/variant-002.xml", b"<textEntryInteraction ", b"<textEntry ", "textEntry"),
    ("qti21", "imsmanifest.xml", b'<resource identifier="variant-001" ', b"<resource ", "identifier"),
    ("qti21", "test.xml", b'<selection select="1"/>', b'<selection/>', "select"),
    ("qti21", "test.xml", b"<testVariables ", b"<testVariable ", "testVariable"),
    ("qti21", "imsmanifest.xml", b'<dependency identifierref="variant-002"/>', b'<dependency ref="variant-002"/>',
     "identifierref"),
    ("canvas", "variant-001/variant-001.xml", b'fibtype="Decimal"', b'fibtype="Float"', "fibtype"),
    ("canvas", "variant-002/variant-002.xml", b"<resprocessing>", b"<scoring/><resprocessing>", "scoring"),
    ("canvas", "imsmanifest.xml", b"<organizations/>", b"", "resources"),
]


@pytest.mark.parametrize("lms, name, text, replacement, complaint", PLANTED)
def test_a_planted_error_fails_validation(built, schemas, lms, name, text, replacement, complaint):
    xml = xml_members(built[lms] / f"{lms}.zip")[name]
    assert text in xml and schema_errors(schemas, lms, name, xml) == []
    problems = schema_errors(schemas, lms, name, xml.replace(text, replacement, 1))
    assert problems and complaint in "\n".join(problems), problems
