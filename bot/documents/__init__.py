"""The documents: a 责任分工 as data, and how one is read in.

The plan (tasks, measures, units and their roles) as frozen dataclasses; units renamed, merged
or split since the document (succession, units.yaml); import-doc, which reads .txt, .docx and
.xlsx documents within limits, finds their layout and who is responsible (牵头/配合/指导,
catch-alls), and writes a data folder safely; short forms of unit names; the examples drawn
from the loaded document. Nothing here answers a question or touches the database.
"""
