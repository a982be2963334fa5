"""`kam sources new NAME`: the commented declaration a data engineer starts a cost source from."""

TEMPLATE = """\
# Declaration of the raw source {name}: drop its files into data/raw/{name}/ and run
# `kam sources validate`, then `kam refresh`. No code to write: the ingest asset, the dbt staging
# model stg_cost__{name}, its Great Expectations suite and its rows in cost_lines and
# cost_to_serve are derived from this file. See docs/cost-sources.md.
name: {name}
description: What the file holds, in one sentence (no curly braces).
required: false              # true: a refresh without any accepted row of it stops at ingest
# files: "{name}/*.csv"      # glob relative to data/raw (default: every .csv/.parquet in {name}/)
# format: {{type: csv, delimiter: ";"}}   # German ERP CSV (1.234,56; dd.mm.yyyy) or parquet
columns:                     # every column of the file; names are plain identifiers
  - {{name: booking_id, type: text, required: true, description: "Id of the row."}}
  - {{name: customer_id, type: text, required: true, description: "Customer (ERP sold-to)."}}
  - {{name: booking_date, type: date, required: true, description: "The cost lands in its month."}}
  - {{name: amount, type: "decimal(18,2)", required: true, min: 0, description: "Cost in currency."}}
  - {{name: currency, type: currency, required: true, description: "ISO currency code."}}
  # - {{name: kind, type: text, allowed: [a, b], description: "Rows with another value are quarantined."}}
unique_key: [booking_id]     # a second row with the same key is quarantined
references:
  - {{column: customer_id, source: customers}}   # unknown customers are quarantined
currency: {{column: currency, date_column: booking_date}}   # needs an exchange rate on that day
cost:
  owner: Team or person answering questions about the file
  customer: customer_id      # or  account: <column with the key-account id>
  date: booking_date
  currency: currency
  # source_id: booking_id    # default: the unique key
  category: sales_promotion  # an id in dbt_project/seeds/cost_categories.csv, or
  # category: {{column: kind, map: {{a: sales_promotion, b: presentations}}}}
  allocation: direct         # or {{activity: <catalogue activity>, driver: <its driver>, quantity: <column>}}
  amount: amount             # columns joined by * and +, e.g. hours * hourly_rate + expenses
  detail: "booking {{booking_id}}"   # drill-down text; [ - {{column}}] is left out when empty
# Incremental refresh: a changed row recomputes the month of cost.date (the default). Declare
# more when a row matters beyond its month, e.g. {{from: booking_date, through: settled_date}}.
# affects_months: {{from: booking_date}}
"""


def new_source_template(name: str) -> str:
    return TEMPLATE.format(name=name)
