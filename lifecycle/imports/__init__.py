"""Importing a district's inventory from CSV and XLSX files (docs/rules.md#importing).

reading (files → rows), values (one cell → a value), fields (headers → our fields) are
pure; rows validates a mapped row through the models the forms use.
"""
