"""The demo cooperative: its districts, people and inventory, seeded once."""
