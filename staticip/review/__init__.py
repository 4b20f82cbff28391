"""`staticip review`: what a Terraform plan does to the allow-listed IPs (`command`).

The package's parts: `model` (the findings and changes), `plans` (reading a plan), `rules` (the
common rules), `mode_rules` (those and every mode's, `staticip/modes/<mode>/rules.py`),
`pricing` (the cost before and after) and `render`. Nothing is imported here: a mode's rules
import `model`, `plans` and `rules`, and `mode_rules` imports the modes' rules, so this
package's `__init__` stays out of that chain.
"""
