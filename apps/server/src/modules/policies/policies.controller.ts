import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { DryRunBody, PutPoliciesBody } from '@yoke/protocol';
import { z } from 'zod';
import { ZodPipe } from '../../core/zod-body.pipe';
import { Allow } from '../../core/auth/access';
import { Audited, NotAudited } from '../audit/audited';
import { CurrentPrincipal, type Principal } from '../../core/auth/principal';
import { PoliciesService } from './policies.service';
import { PolicySetsService } from './policy-sets.service';

const ValidateBody = PutPoliciesBody.pick({ yaml: true });

@Controller('policies')
export class PoliciesController {
  constructor(
    private readonly sets: PolicySetsService,
    private readonly policies: PoliciesService,
  ) {}

  @Get()
  @Allow('auditor')
  @NotAudited("a read of the org's policy set")
  get(@CurrentPrincipal() p: Principal) {
    return this.sets.get(p);
  }

  @Put()
  @Allow('admin')
  @Audited('policy_set.changed')
  put(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(PutPoliciesBody)) body: PutPoliciesBody) {
    return this.sets.put(p, body);
  }

  @Post('validate')
  @Allow('auditor')
  @NotAudited('checks YAML and stores nothing')
  @HttpCode(200)
  validate(@Body(new ZodPipe(ValidateBody)) body: z.infer<typeof ValidateBody>) {
    const issues = this.sets.validate(body.yaml);
    return { ok: issues.length === 0, issues };
  }

  @Post('dry-run')
  @Allow('auditor')
  @NotAudited('replays recorded sessions the caller may see against a set; stores nothing')
  @HttpCode(200)
  dryRun(@CurrentPrincipal() p: Principal, @Body(new ZodPipe(DryRunBody)) body: DryRunBody) {
    return this.policies.dryRun(p, body);
  }
}
