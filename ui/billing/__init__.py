"""The billing page's parts: one invoice, the desk's lists and the automation tab."""
