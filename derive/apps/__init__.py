"""What users run: the worksheet, snippets, exams and the chain-rule tools, built from the stages below."""
