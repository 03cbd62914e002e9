"""(see grader/__init__.py)"""
