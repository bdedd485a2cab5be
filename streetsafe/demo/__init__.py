"""The demo, in one package: what `make demo` loads into the local database.

transit.py   the Hull city centre feed and neighbourhoods the project authors (geodata/demo/)
seeding.py   synthetic reports (marked `synthetic`) clustered on the transit loaded
commands.py  `streetsafe demo` (migrate, load both, serve) and `streetsafe seed-demo`
"""
