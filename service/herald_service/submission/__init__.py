"""SMTP submission: applications that speak SMTP send through Herald on 587 and 465.

``herald submission`` runs the server; a message it takes goes through the same pipeline
as ``POST /v1/messages`` (the key's account, domains and quotas; signing; storage; queue).
"""
